#pragma once

#include <grpcpp/grpcpp.h>

#include <map>
#include <memory>
#include <string>

#include "chat.grpc.pb.h"
#include "common/mutex.h"
#include "common/write_queue.h"

namespace chat {

// Lines per second the server accepts from one client, and its burst.
struct FloodLimit {
  double rate = 0;  // 0: no limit
  double burst = 0;
};

// Receives what happens on a ChatStream. Called on gRPC's callback threads:
// implementations only hand the event over (the client's Inbox does that).
class ChatStreamListener {
 public:
  virtual ~ChatStreamListener() = default;
  // The server's flood limit, from its initial metadata (before the first message).
  virtual void OnStreamLimit(FloodLimit limit) = 0;
  virtual void OnStreamMessage(ChatMessage message) = 0;
  virtual void OnStreamDone(const grpc::Status& status) = 0;
};

// The client side of one Chat stream.
//
// States: Started (reading; writes queue and drain one at a time through
// OnWriteDone) -> HalfClosing (HalfClose() called: the queue drains, then
// WritesDone) -> Done (OnDone: the listener has the final status).
//
// Ownership: shared. The session holds a shared_ptr; the reactor holds
// itself (self_) from Start() until OnDone, so it outlives every callback
// and is deleted by whichever lets go last. A hold (AddHold before
// StartCall) keeps OnDone from running while the session may still write
// from its own thread; it is released once no more writes can come: after
// WritesDone, or when the server ends the stream.
class ChatStream final : public grpc::ClientBidiReactor<ChatMessage, ChatMessage>,
                         public std::enable_shared_from_this<ChatStream> {
 public:
  ChatStream(ChatService::Stub& stub, const std::map<std::string, std::string>& metadata,
             std::shared_ptr<ChatStreamListener> listener);

  void Start();

  // Queues a message; false when the stream no longer takes writes.
  // Safe to call from any thread.
  bool Send(ChatMessage message);
  // Half-closes once everything queued is written. Safe from any thread.
  void HalfClose();
  // Ends the stream now (the listener still gets OnStreamDone). Any thread.
  void Cancel();

 private:
  void OnReadDone(bool ok) override;
  void OnWriteDone(bool ok) override;
  void OnDone(const grpc::Status& status) override;

  void ReleaseHoldLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void ReportLimit();

  grpc::ClientContext context_;
  const std::shared_ptr<ChatStreamListener> listener_;
  ChatMessage incoming_;              // only touched by the read chain
  bool limit_reported_ = false;       // only touched by the read chain
  std::shared_ptr<ChatStream> self_;  // set by Start, dropped at the end of OnDone

  Mutex mu_;
  WriteQueue<ChatMessage> queue_ ABSL_GUARDED_BY(mu_);  // unbounded (the user types slowly)
  bool half_close_requested_ ABSL_GUARDED_BY(mu_) = false;
  bool writes_done_ ABSL_GUARDED_BY(mu_) = false;  // no write may start any more
  bool hold_released_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace chat
