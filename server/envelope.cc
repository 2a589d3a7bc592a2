#include "server/envelope.h"

#include <grpcpp/support/slice.h>

namespace chat {

EnvelopePtr MakeEnvelope(ChatMessage message) {
  auto envelope = std::make_shared<Envelope>();
  envelope->message = std::move(message);
  grpc::Slice slice(envelope->message.SerializeAsString());
  envelope->wire = grpc::ByteBuffer(&slice, 1);
  return envelope;
}

}  // namespace chat
