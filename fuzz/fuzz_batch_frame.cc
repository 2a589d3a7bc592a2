// The batch frame (server/batch_frame.cc): messages made from the fuzzed
// bytes are packed into one frame by hand-written tags and lengths, and the
// frame must parse back, as the clients parse it, into the same messages in
// the same order.
#include <google/protobuf/stubs/logging.h>
#include <google/protobuf/util/message_differencer.h>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "chat.pb.h"
#include "common/terminal_text.h"
#include "server/batch_frame.h"
#include "server/envelope.h"

// Pieces that are not valid messages are the normal case: keep protobuf's
// complaint about each out of the fuzzer's output.
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  google::protobuf::SetLogHandler(nullptr);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // The input is a series of [length byte][that many bytes]; each piece is
  // parsed as a ChatMessage (kept if it parses) or else becomes the text of one.
  std::vector<chat::EnvelopePtr> envelopes;
  std::size_t at = 0;
  while (at < size && envelopes.size() < 200) {
    const std::size_t length = std::min<std::size_t>(data[at++], size - at);
    const std::string piece(reinterpret_cast<const char*>(data + at), length);
    at += length;
    chat::ChatMessage message;
    if (!message.ParseFromString(piece)) {
      message.Clear();
      // Valid UTF-8, as everything the server relays is (CheckChatText):
      // proto3 strings that are not would not parse back.
      message.set_message(chat::SanitizeForTerminal(piece));
      message.set_seq(length * 0x0101010101ULL);
    }
    message.clear_batch();  // the server never nests batches
    envelopes.push_back(chat::MakeEnvelope(std::move(message)));
  }
  if (envelopes.empty()) return 0;

  const grpc::ByteBuffer frame = chat::MakeBatchFrame(envelopes);
  grpc::Slice bytes;
  if (!frame.DumpToSingleSlice(&bytes).ok()) std::abort();
  chat::ChatMessage parsed;
  if (!parsed.ParseFromArray(bytes.begin(), static_cast<int>(bytes.size()))) std::abort();
  if (parsed.batch_size() != static_cast<int>(envelopes.size())) std::abort();
  for (int i = 0; i < parsed.batch_size(); ++i) {
    if (!google::protobuf::util::MessageDifferencer::Equals(parsed.batch(i),
                                                            envelopes[i]->message)) {
      std::abort();
    }
  }
  // Nothing but the batch: the frame carries no fields of its own.
  parsed.clear_batch();
  if (parsed.ByteSizeLong() != 0) std::abort();
  return 0;
}
