#pragma once

#include <grpcpp/support/status.h>

#include <cstdint>
#include <optional>
#include <vector>

#include "chat.pb.h"
#include "client/chat_stream.h"
#include "common/mutex.h"

namespace chat {

// One thing that happened on a stream, for the client's event loop.
struct StreamEvent {
  std::uint64_t stream_id;             // which connection attempt it came from
  std::optional<ChatMessage> message;  // a message, or...
  std::optional<grpc::Status> done;    // ...the stream's final status, or...
  std::optional<FloodLimit> limit;     // ...the server's flood limit
};

// Hands stream events from gRPC's threads to the event loop: Push() from any
// thread makes wake_fd() readable; the loop then calls Drain().
class Inbox {
 public:
  Inbox();
  ~Inbox();
  Inbox(const Inbox&) = delete;
  Inbox& operator=(const Inbox&) = delete;

  void Push(StreamEvent event);
  std::vector<StreamEvent> Drain();
  int wake_fd() const { return pipe_[0]; }

 private:
  int pipe_[2];
  Mutex mu_;
  std::vector<StreamEvent> events_ ABSL_GUARDED_BY(mu_);
  bool wake_pending_ ABSL_GUARDED_BY(mu_) = false;  // a byte is in the pipe
};

}  // namespace chat
