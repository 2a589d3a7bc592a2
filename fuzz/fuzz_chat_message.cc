// The server's first look at a frame from a client: the lenient parse of a
// ChatMessage, then the rules each field meets (server/chat_reactor.cc,
// server/hub.cc, server/hub_commands.cc), then the /command parse of the
// text and the quoting of what is echoed back.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "chat_lenient.pb.h"
#include "common/command.h"
#include "common/terminal_text.h"
#include "common/text_rules.h"

namespace {

// Every status, ERROR and log line quotes sent text through QuoteSent: it
// must stay short whatever was sent (bytes of kMaxQuotedChars code points of
// at most "<U+XXXXXX>" each, plus the "… (N bytes)" tail).
constexpr std::size_t kMaxQuoteBytes = chat::kMaxQuotedChars * 10 + 64;

void CheckQuoted(std::string_view sent) {
  if (chat::QuoteSent(sent).size() > kMaxQuoteBytes) std::abort();
}

void CheckCommand(std::string_view text) {
  const chat::Command command = chat::ParseCommand(text);
  // An error quotes the line back: it must be short too (the line may be 8 KiB).
  if (command.error.size() > 300 + kMaxQuoteBytes) std::abort();
  if (command.kind == chat::CommandKind::kInvalid && command.error.empty()) std::abort();
  std::string error;
  chat::NormalizeRoom(command.arg, &error);
  CheckQuoted(command.arg);
  chat::CheckName(command.arg);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  chat::internal::LenientChatMessage message;
  if (!message.ParseFromArray(data, static_cast<int>(size))) {
    // Not a message: the bytes still reach the text rules as a line.
    const std::string_view line(reinterpret_cast<const char*>(data), size);
    if (!chat::CheckChatText(line, 8192)) CheckCommand(line);
    return 0;
  }
  chat::CheckName(message.user());
  chat::NameKey(message.user());
  CheckQuoted(message.user());
  std::string error;
  const std::string room = chat::NormalizeRoom(message.room(), &error);
  if (room.empty() == error.empty()) std::abort();  // exactly one of them
  CheckQuoted(message.room());
  chat::CheckChatText(message.client_msg_id(), chat::kMaxClientMsgIdLength);
  // The hub parses commands only from text that passed the text rules.
  if (!chat::CheckChatText(message.message(), 8192)) CheckCommand(message.message());
  return 0;
}
