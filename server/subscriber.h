#pragma once

#include <grpcpp/support/status.h>

#include <string>

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

  // What Deliver did, and whether the subscriber's queue is now backlogged:
  // past its high watermark and not yet drained to its low one (see
  // server/backlog.h). The hub holds back a room's senders while most of its
  // members are backlogged.
  struct Delivered {
    Delivered(Delivery delivery, bool backlogged = false)  // NOLINT: implicit by design
        : delivery(delivery), backlogged(backlogged) {}
    Delivery delivery;
    bool backlogged;
  };

  virtual ~Subscriber() = default;

  virtual Delivered Deliver(EnvelopePtr envelope) = 0;

  // Whether the queue is backlogged now. Called with the hub's mutex held,
  // after the subscriber told the hub (Hub::Drained) that its backlog ended.
  virtual bool Backlogged() = 0;

  // The hub posted the line it held back (Hub::Receive said `held`): read on.
  // Called without the hub's mutex, between a Ref() and an Unref(), at most
  // once per held line.
  virtual void Resume() = 0;
  // The member was renamed (by /nick): for its log lines. With the hub's
  // mutex held, like Deliver.
  virtual void Renamed(const std::string& name) { (void)name; }

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
