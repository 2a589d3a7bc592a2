#pragma once

#include <grpcpp/support/status.h>

#include "server/envelope.h"

namespace chat {

// What the hub sees of a connected stream: the narrow interface it delivers
// through.
//
// Deliver and Close are called with the hub's mutex held: they only enqueue
// (never block, never call back into the hub). The write itself starts in
// Flush, which the hub calls after releasing its mutex, so one slow
// `sendmsg` never holds up the whole hub, and messages that arrive while a
// write is under way leave together in the next one.
class Subscriber {
 public:
  enum class Delivery {
    kRefused,      // no longer accepts messages (finished, or cut off as too slow)
    kQueued,       // queued; a write in flight (or a pending Flush) will carry it
    kFlushNeeded,  // queued and nothing is writing: Ref(), then Flush() and Unref() unlocked
  };

  virtual ~Subscriber() = default;

  virtual Delivery Deliver(EnvelopePtr envelope) = 0;

  // Ends the stream with `status` once what is queued has been sent (a write
  // in flight or a pending Flush will get there).
  virtual void Close(const grpc::Status& status) = 0;

  // Starts writing what is queued, if nothing is writing yet. Called without
  // the hub's mutex, between a Ref() taken under it and an Unref().
  virtual void Flush() = 0;

  // Keeps the subscriber alive from the moment the hub (holding its mutex)
  // decides to flush it until the flush is done, even if its stream ends in
  // between.
  virtual void Ref() = 0;
  virtual void Unref() = 0;
};

}  // namespace chat
