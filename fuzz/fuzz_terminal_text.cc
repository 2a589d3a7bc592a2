// What the client prints of text from the network: the terminal and display
// sanitisers, and the plain pipe line and display line of a message whose
// fields are the fuzzed bytes.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "chat.pb.h"
#include "client/message_format.h"
#include "common/terminal_text.h"
#include "common/utf8.h"

namespace {

// Sanitised text is valid UTF-8 without C0, DEL, C1 or bidi controls: what
// a terminal could act on never gets through.
void CheckSafe(std::string_view text, bool allow_escape) {
  std::size_t offset = 0;
  while (offset < text.size()) {
    const auto cp = chat::DecodeUtf8(text.substr(offset));
    if (!cp) std::abort();
    const char32_t c = cp->value;
    const bool bidi = (c >= 0x202A && c <= 0x202E) || (c >= 0x2066 && c <= 0x2069) || c == 0x200E ||
                      c == 0x200F || c == 0x061C;
    if (bidi) std::abort();
    // Display lines carry our own colour escapes; only pipe text is checked for ESC.
    if (chat::IsControlCodePoint(c) && !(allow_escape && c == 0x1B)) std::abort();
    offset += cp->length;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const std::string terminal = chat::SanitizeForTerminal(text);
  CheckSafe(terminal, false);
  // Idempotent: sanitised text passes unchanged.
  if (chat::SanitizeForTerminal(terminal) != terminal) std::abort();
  CheckSafe(chat::SanitizeForDisplay(text), false);
  CheckSafe(chat::QuoteSent(text), false);

  // One message with the bytes split over its fields; the first byte picks
  // the kind, the next eight the time (any value, including the int64 ends).
  chat::ChatMessage message;
  std::size_t at = 0;
  if (size > 0) message.set_kind(static_cast<chat::Kind>(data[at++] % 16));
  if (size >= at + 8) {
    std::uint64_t time = 0;
    for (int i = 0; i < 8; ++i) time = time << 8 | data[at++];
    message.set_time_unix_ms(static_cast<std::int64_t>(time));
    message.set_seq(time);
  }
  const std::string_view rest = text.substr(at);
  const std::size_t third = rest.size() / 3;
  message.set_user(std::string(rest.substr(0, third)));
  message.set_room(std::string(rest.substr(third, third)));
  message.set_message(std::string(rest.substr(2 * third)));
  message.set_subject(std::string(rest.substr(0, third)));
  const std::string plain = chat::FormatPlainLine(message);
  CheckSafe(plain, false);
  chat::DisplayStyle style;
  style.my_name = std::string(rest.substr(0, third));
  CheckSafe(chat::FormatDisplayLine(message, style, 1), true);
  style.color = false;
  style.colors = 256;
  CheckSafe(chat::FormatDisplayLine(message, style, 0), false);
  chat::IsMention(message, style);
  chat::MentionsName(message.message(), message.user());
  return 0;
}
