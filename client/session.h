#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "chat.grpc.pb.h"
#include "client/chat_output.h"
#include "client/chat_stream.h"
#include "client/credentials.h"
#include "client/inbox.h"
#include "client/resume_rules.h"
#include "common/token_bucket.h"

namespace chat {

struct SessionOptions {
  std::string server = "127.0.0.1:50051";
  std::string name;
  std::string room;                                  // "" = the server's default (lobby)
  std::chrono::milliseconds connect_timeout{10000};  // first connection
  std::chrono::milliseconds retry_for{300000};       // reconnecting after a loss
  std::chrono::milliseconds drain_timeout{10000};    // after end of input
  std::chrono::milliseconds backoff_initial{250};
  std::chrono::milliseconds backoff_max{10000};
  bool show_history = true;      // false: skip the replay on the first join and on /join
  bool fail_on_refused = false;  // exit 3 at the end when the server refused any line
  TlsSettings tls;               // TLS or plain text (see client/credentials.h)
  std::string token;             // sent as "authorization: Bearer ..." on every stream; "" = none
};

// Exit code when fail_on_refused is set and a line was refused.
inline constexpr int kExitRefused = 3;

// The chat session: one connection at a time, and everything that outlives
// a connection. Reconnection lives here and only here: exponential backoff
// with jitter, resuming after the last sequence number seen in the room,
// de-duplicating by sequence number, and re-sending lines the server never
// acknowledged (matched by client_msg_id).
//
// Single-threaded: every method runs on the client's event-loop thread.
// Streams report through the Inbox; HandleEvents() consumes those reports.
class Session {
 public:
  using Clock = std::chrono::steady_clock;

  // The inbox is shared with the streams' listeners: a stream that reports
  // late (after the session gave up waiting for it) still has somewhere to.
  Session(SessionOptions options, ChatOutput& output, std::shared_ptr<Inbox> inbox);
  ~Session();

  void Start();
  // One line the user typed (or one line from the pipe).
  void SendLine(const std::string& line);
  // No more input: half-close once everything typed is sent, then wait for
  // the server to finish the stream (bounded by drain_timeout).
  void EndInput();
  // Leave now (Ctrl-C, a second Ctrl-D): cancel the stream.
  void Abort();

  // Completion candidates for `word`, typed after `line` (see LineEditor):
  // /commands at the start of a line, member names (as "name:" at the start
  // of a line).
  std::vector<std::string> Complete(std::string_view line, std::string_view word) const;

  void HandleEvents();
  // When the loop must call OnTimer next, if ever.
  std::optional<Clock::time_point> NextDeadline() const;
  void OnTimer();

  bool finished() const { return exit_code_.has_value(); }
  int exit_code() const { return exit_code_.value_or(0); }
  // The one-line reason for a non-zero exit.
  const std::string& exit_reason() const { return exit_reason_; }

 private:
  enum class State { kConnecting, kReady, kWaitingToRetry, kClosing, kFinished };

  struct Outgoing {
    ChatMessage message;
    bool track;  // said in a room or privately: acknowledged by its echo
  };
  struct PendingLine {
    std::string id;
    ChatMessage message;
    bool private_message;
  };

  void Connect();
  void OnMessage(ChatMessage message);
  void OnDone(const grpc::Status& status);
  void OnReady();
  void Write(ChatMessage message, bool track);
  // Sends what waits in the outbox, as fast as the server's flood limit allows.
  void SendWaiting();
  void UpdateLink();
  void TrackMembers(const ChatMessage& message);
  void MaybeHalfClose();
  void ScheduleRetry();
  void Finish(int code, std::string reason);
  std::string NextMessageId();

  const SessionOptions options_;
  ChatOutput& output_;
  const std::shared_ptr<Inbox> inbox_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<ChatService::Stub> stub_;
  std::shared_ptr<ChatStream> stream_;
  std::uint64_t stream_id_ = 0;

  State state_ = State::kConnecting;
  bool ever_ready_ = false;
  bool input_ended_ = false;
  std::string name_;
  std::string room_;
  RoomPositions positions_;          // where we are in each room's log
  std::deque<Outgoing> outbox_;      // not sent yet: disconnected, or paced
  std::deque<PendingLine> unacked_;  // sent, no echo yet

  Clock::time_point first_attempt_;
  Clock::time_point lost_at_;
  std::optional<Clock::time_point> retry_at_;
  std::optional<Clock::time_point> drain_deadline_;
  std::optional<Clock::time_point> pace_at_;    // when the outbox may send again
  std::optional<Clock::time_point> next_tick_;  // the reconnect countdown's next second
  std::optional<TokenBucket> pacer_;            // the current stream's flood limit
  // Who is in each room, as far as its events and history tell (for
  // completion): lowered name -> name.
  std::map<std::string, std::map<std::string, std::string>> members_;
  std::size_t refused_ = 0;
  bool name_taken_reported_ = false;
  std::chrono::milliseconds backoff_;
  std::mt19937_64 random_;
  std::string id_prefix_;
  std::uint64_t id_counter_ = 0;

  std::optional<int> exit_code_;
  std::string exit_reason_;
};

}  // namespace chat
