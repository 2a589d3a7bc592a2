#pragma once

#include <grpcpp/support/byte_buffer.h>
#include <grpcpp/support/slice.h>

#include <chrono>
#include <memory>

#include "chat.pb.h"

namespace chat {

// A message on its way out, serialised once and shared (read-only) by every
// recipient's write queue: fan-out to N members costs N pointer copies, not N
// serialisations.
struct Envelope {
  ChatMessage message;
  grpc::Slice bytes;      // the serialised message (reference-counted, never copied)
  grpc::ByteBuffer wire;  // `bytes` as a frame of its own
  // When the hub made it: the start of chat_send_to_write_seconds.
  std::chrono::steady_clock::time_point accepted = std::chrono::steady_clock::now();
};

using EnvelopePtr = std::shared_ptr<const Envelope>;

EnvelopePtr MakeEnvelope(ChatMessage message);

}  // namespace chat
