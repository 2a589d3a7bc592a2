#include "server/envelope.h"

#include <grpcpp/support/slice.h>

namespace chat {

EnvelopePtr MakeEnvelope(ChatMessage message) {
  auto envelope = std::make_shared<Envelope>();
  envelope->message = std::move(message);
  envelope->bytes = grpc::Slice(envelope->message.SerializeAsString());
  envelope->wire = grpc::ByteBuffer(&envelope->bytes, 1);
  return envelope;
}

}  // namespace chat
