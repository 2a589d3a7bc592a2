#pragma once

#include <grpcpp/support/status.h>

#include "server/envelope.h"

namespace chat {

// What the hub sees of a connected stream: the narrow interface it delivers
// through. The hub calls these with its own mutex held, so implementations
// must only enqueue (never block, never call back into the hub).
class Subscriber {
 public:
  virtual ~Subscriber() = default;

  // Queues `envelope` for this subscriber. Returns false when the subscriber
  // no longer accepts messages (finished, or its queue hit the bound and it
  // is being disconnected): the hub then drops it as a member.
  virtual bool Deliver(EnvelopePtr envelope) = 0;

  // Ends the stream with `status` once what is queued has been sent.
  virtual void Close(const grpc::Status& status) = 0;
};

}  // namespace chat
