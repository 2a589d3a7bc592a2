#pragma once

#include <absl/base/thread_annotations.h>
#include <grpcpp/grpcpp.h>

#include <atomic>
#include <optional>
#include <string>

#include "common/mutex.h"
#include "common/write_queue.h"
#include "server/backlog.h"
#include "server/hub.h"
#include "server/ops/metrics.h"
#include "server/peer_stream_limit.h"
#include "server/subscriber.h"
#include "server/token_verifier.h"
#include "server/write_linger.h"

namespace chat {

// The server side of one Chat stream.
//
// States: Open (no name yet) -> Joined (a hub member) -> Closing (a final
// status is chosen; what is queued drains) -> Finished (Finish() called) ->
// Done (OnDone: deleted).
//
// Ownership: created with `new` by ChatServiceImpl::Chat; reference-counted.
// gRPC's reference is released in OnDone, after Hub::Leave: that takes the
// hub mutex, so once it returns no hub thread is inside Deliver or Close and
// none can find this object again. The hub takes a reference (Ref, under its
// mutex) for each Flush it will call after unlocking, and releases it after
// the Flush. The last Unref deletes the reactor; after OnDone nothing starts
// a gRPC operation (finished_ is set, so Flush does nothing).
//
// Threads: reactions run on gRPC's callback threads, possibly in parallel;
// Deliver and Close run on whichever thread holds the hub mutex. Everything
// they share is guarded by mu_ (lock order: hub mutex, then mu_). Read-side
// state (incoming_, joined_, entered_hub_, join_) is only touched by the constructor,
// OnReadDone (one at a time: the next read starts after the previous one's
// last use) and OnDone (which runs alone, last).
class ChatReactor final : public grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer>,
                          public Subscriber {
 public:
  // A batch frame carries at most this many messages and bytes: enough to
  // drain a backlog in few writes (the cost is per write, not per byte),
  // and far below clients' default 4 MiB receive limit.
  static constexpr std::size_t kMaxBatchMessages = 128;
  static constexpr std::size_t kMaxBatchBytes = 1 << 20;

  struct Options {
    // What may wait for this client before it is cut off as too slow, and
    // its watermarks (see Backlog).
    Backlog::Limits queue;
    // Holds back writes to clients that take batch frames (see WriteLinger);
    // null: every write starts as soon as something waits. Outlives the reactor's last Flush.
    WriteLinger* linger = nullptr;
    // Checks each stream's token before it reaches the hub; null: no
    // authentication (names go to whoever asks first). Outlives the reactor.
    const TokenVerifier* verifier = nullptr;
    // Counts the streams open from each client address; null: no limit.
    // Outlives the reactor.
    PeerStreamLimit* stream_limit = nullptr;
    // The server's counters (never null). Outlives the reactor.
    ServerMetrics* metrics = nullptr;
  };

  ChatReactor(grpc::CallbackServerContext* context, Hub& hub, Options options);

  // Subscriber: Deliver and Close with the hub's mutex held; Flush without it.
  Delivered Deliver(EnvelopePtr envelope) override;
  bool Backlogged() override;
  void Close(const grpc::Status& status) override;
  void Flush() override;
  void Resume() override;
  void Renamed(const std::string& name) override;
  void Ref() override { refs_.fetch_add(1, std::memory_order_relaxed); }
  void Unref() override;

 private:
  void OnReadDone(bool ok) override;
  void OnWriteDone(bool ok) override;
  void OnCancel() override;
  void OnDone() override;

  void HandleIncoming();
  // With authentication on: checks the token and binds the stream to its
  // subject (and rooms); false (and the stream ending) if it is refused.
  bool Authenticate();
  // Enter the hub as a reader (no name yet) or as a named member; false
  // (and the stream closing with the hub's status) if it refuses.
  bool ListenHub();
  bool JoinHub(std::string name, std::string room);
  // Ends the stream: leaves the hub, then finishes with `status` once drained.
  void EndStream(const grpc::Status& status, std::string_view reason);

  // Chooses the final status (the first one wins) and finishes if nothing is queued.
  void CloseLocked(const grpc::Status& status) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Takes what waits into flight (one message, or a batch frame for clients
  // that asked) and returns the frame to pass to StartWrite.
  const grpc::ByteBuffer* TakeNextWriteLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void MaybeFinishLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Drops what waits and closes with RESOURCE_EXHAUSTED: over the limits.
  void CutOffLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // With nothing in flight and something waiting: either returns the frame to
  // write now, or hands the stream to the linger thread and returns null.
  const grpc::ByteBuffer* WriteNowOrLingerLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Enough waits to fill a frame (or half the queue bound): holding it back
  // would only slow a fast reader down, up to being cut off as too slow.
  bool FullBatchWaitingLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  grpc::CallbackServerContext* const context_;
  Hub& hub_;
  const Options options_;
  const std::string peer_;
  PeerStreamLimit::Slot
      slot_;               // this stream's place in its address's count (set by the constructor)
  bool batching_ = false;  // set in the constructor, then only read

  // Read side (see the class comment).
  grpc::ByteBuffer incoming_;
  bool joined_ = false;       // a named member (a reader is in the hub, unnamed)
  bool entered_hub_ = false;  // Listen or Join was called: Leave is needed
  JoinRequest join_;  // from request metadata; name and room may come with the first message

  Mutex mu_;
  WriteQueue<EnvelopePtr> queue_ ABSL_GUARDED_BY(mu_);  // unbounded: backlog_ has the limits
  Backlog backlog_ ABSL_GUARDED_BY(mu_);                // what queue_ holds, measured
  // Resume is starting a read outside mu_: Finish waits for it (OnDone must
  // not come before the read is started).
  int starting_read_ ABSL_GUARDED_BY(mu_) = 0;
  grpc::ByteBuffer frame_ ABSL_GUARDED_BY(mu_);  // the batch frame in flight
  std::optional<grpc::Status> closing_ ABSL_GUARDED_BY(mu_);
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  std::string name_for_logs_ ABSL_GUARDED_BY(mu_);  // the current name (for log lines)
  // Deliver answered kFlushNeeded and the hub's Flush has not run yet.
  // Invariant: messages wait with no write in flight only while this is set.
  // The linger thread counts as a pending Flush too.
  bool flush_pending_ ABSL_GUARDED_BY(mu_) = false;
  // The linger holds this stream (set by a successful Hold, cleared by
  // Flush). A full batch waiting ends the hold early (see Deliver).
  bool held_ ABSL_GUARDED_BY(mu_) = false;
  // When the last write started (on the linger's clock); min(): never.
  Clock::time_point last_write_ ABSL_GUARDED_BY(mu_) = Clock::time_point::min();

  std::atomic<int> refs_{1};  // gRPC's reference, released in OnDone
};

}  // namespace chat
