#include "client/session.h"

#include <poll.h>

#include <algorithm>

#include "common/command.h"
#include "common/protocol_keys.h"
#include "common/text_rules.h"

namespace chat {
namespace {

using std::chrono::duration_cast;
using std::chrono::milliseconds;

// Forwards one stream's reports to the inbox, tagged with the stream's id so
// that late reports from an abandoned stream can be told apart.
class StreamEvents final : public ChatStreamListener {
 public:
  StreamEvents(std::shared_ptr<Inbox> inbox, std::uint64_t id)
      : inbox_(std::move(inbox)), id_(id) {}
  void OnStreamMessage(ChatMessage message) override {
    inbox_->Push({id_, std::move(message), std::nullopt});
  }
  void OnStreamDone(const grpc::Status& status) override {
    inbox_->Push({id_, std::nullopt, status});
  }

 private:
  const std::shared_ptr<Inbox> inbox_;
  const std::uint64_t id_;
};

bool SameName(std::string_view a, std::string_view b) { return NameKey(a) == NameKey(b); }

// Refusals that retrying cannot fix. ALREADY_EXISTS is one only on the first
// connection: after a loss it is usually our own old stream, which the
// server has not noticed is gone yet.
bool IsFatal(grpc::StatusCode code, bool ever_ready) {
  switch (code) {
    case grpc::StatusCode::INVALID_ARGUMENT:
    case grpc::StatusCode::PERMISSION_DENIED:
    case grpc::StatusCode::UNAUTHENTICATED:
    case grpc::StatusCode::UNIMPLEMENTED:
    case grpc::StatusCode::FAILED_PRECONDITION:
      return true;
    case grpc::StatusCode::ALREADY_EXISTS:
      return !ever_ready;
    default:
      return false;
  }
}

std::string Seconds(milliseconds ms) {
  char out[32];
  std::snprintf(out, sizeof out, "%.1fs", static_cast<double>(ms.count()) / 1000.0);
  return out;
}

}  // namespace

Session::Session(SessionOptions options, ChatOutput& output, std::shared_ptr<Inbox> inbox)
    : options_(std::move(options)),
      output_(output),
      inbox_(std::move(inbox)),
      name_(options_.name),
      room_(options_.room),
      backoff_(options_.backoff_initial),
      random_(std::random_device{}()) {
  grpc::ChannelArguments args;
  // Our own backoff decides when to retry; keep the channel's from adding minutes to it.
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 250);
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 250);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, static_cast<int>(options_.backoff_max.count()));
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 30000);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 10000);
  channel_ = grpc::CreateCustomChannel(options_.server, grpc::InsecureChannelCredentials(), args);
  stub_ = ChatService::NewStub(channel_);
  char prefix[24];
  std::snprintf(prefix, sizeof prefix, "%08llx-", static_cast<unsigned long long>(random_() >> 32));
  id_prefix_ = prefix;
}

Session::~Session() {
  if (!stream_) return;
  // Cancel and wait (bounded) for the stream's final report, so it is gone
  // before the process exits; the shared inbox covers a later report.
  stream_->Cancel();
  const auto deadline = Clock::now() + std::chrono::seconds(3);
  while (Clock::now() < deadline) {
    for (const StreamEvent& event : inbox_->Drain()) {
      if (event.stream_id == stream_id_ && event.done) return;
    }
    pollfd fd{inbox_->wake_fd(), POLLIN, 0};
    poll(&fd, 1, 100);
  }
}

void Session::Start() {
  first_attempt_ = Clock::now();
  Connect();
}

void Session::Connect() {
  std::map<std::string, std::string> metadata{{std::string(kUserHeader), name_},
                                              {std::string(kBatchHeader), "1"}};
  if (!room_.empty()) metadata[std::string(kRoomHeader)] = room_;
  if (const auto it = positions_.find(room_); it != positions_.end()) {
    metadata[std::string(kResumeAfterHeader)] = std::to_string(it->second.seq);
    metadata[std::string(kResumeEpochHeader)] = std::to_string(it->second.epoch);
  }
  state_ = State::kConnecting;
  stream_ = std::make_shared<ChatStream>(*stub_, metadata,
                                         std::make_shared<StreamEvents>(inbox_, ++stream_id_));
  stream_->Start();
}

void Session::HandleEvents() {
  for (StreamEvent& event : inbox_->Drain()) {
    if (event.stream_id != stream_id_) continue;
    if (state_ == State::kFinished) {
      if (event.done) stream_.reset();
      continue;
    }
    if (event.message) OnMessage(std::move(*event.message));
    if (event.done) OnDone(*event.done);
  }
}

void Session::OnMessage(ChatMessage message) {
  if (message.batch_size() > 0) {
    for (ChatMessage& inner : *message.mutable_batch()) OnMessage(std::move(inner));
    return;
  }
  if (message.kind() == GAP) {
    positions_[message.room()] = {message.epoch(), message.seq()};
  } else if (message.seq() > 0 && !message.room().empty()) {
    RoomPosition& position = positions_[message.room()];
    if (message.epoch() != position.epoch) position = {message.epoch(), 0};  // a new life
    if (message.seq() <= position.seq) return;  // seen before this reconnection
    position.seq = message.seq();
  }
  // Our own echo acknowledges a line; an ERROR carrying its id refused it.
  // Either way it is settled and never re-sent.
  if (!message.client_msg_id().empty() &&
      (SameName(message.user(), name_) || message.kind() == ERROR)) {
    std::erase_if(unacked_, [&](const PendingLine& p) { return p.id == message.client_msg_id(); });
  }
  output_.ShowMessage(message);
  // Only live events change who we are: history may hold an old rename of
  // someone who had our name before.
  if (message.kind() == RENAME && !message.replay() && SameName(message.user(), name_)) {
    name_ = message.subject();
    output_.SetIdentity(name_, room_);
  }
  if (message.kind() == JOIN && !message.replay() && SameName(message.subject(), name_)) {
    room_ = message.room();
    if (state_ == State::kConnecting) {
      OnReady();  // the join that completes a (re)connection
    } else {
      output_.SetIdentity(name_, room_);  // a /join or /leave
    }
  }
}

void Session::OnReady() {
  const bool reconnected = ever_ready_;
  state_ = State::kReady;
  ever_ready_ = true;
  backoff_ = options_.backoff_initial;
  output_.SetIdentity(name_, room_);
  if (reconnected) output_.ShowStatus("reconnected to " + options_.server);

  // Lines sent before the loss and not echoed in what we just replayed.
  std::deque<PendingLine> unconfirmed = std::exchange(unacked_, {});
  for (PendingLine& line : unconfirmed) {
    if (line.private_message) {
      // Private messages have no history to check against: say so rather
      // than risk sending one twice.
      output_.ShowStatus("not confirmed before the connection was lost (resend if needed): " +
                         line.message.message());
      continue;
    }
    line.message.clear_client_msg_id();
    Write(std::move(line.message), true);
  }
  std::deque<ChatMessage> waiting = std::exchange(outbox_, {});
  for (ChatMessage& message : waiting) {
    const Command command = ParseCommand(message.message());
    Write(std::move(message), command.kind == CommandKind::kSay ||
                                  command.kind == CommandKind::kMe ||
                                  command.kind == CommandKind::kMsg);
  }
  MaybeHalfClose();
}

void Session::SendLine(const std::string& line) {
  if (line.empty() || state_ == State::kFinished) return;
  const Command command = ParseCommand(line);
  if (line == "/quit" || line == "/exit") {
    EndInput();
    return;
  }
  if (command.kind == CommandKind::kHelp) {
    output_.ShowStatus("client commands: /quit (or Ctrl-D) leaves; the server's commands follow");
  }
  if (input_ended_) return;
  ChatMessage message;
  message.set_message(line);
  Write(std::move(message), command.kind == CommandKind::kSay || command.kind == CommandKind::kMe ||
                                command.kind == CommandKind::kMsg);
}

void Session::Write(ChatMessage message, bool track) {
  if (state_ != State::kReady || !stream_) {
    outbox_.push_back(std::move(message));
    return;
  }
  ChatMessage original = message;
  if (track) {
    message.set_client_msg_id(NextMessageId());
    unacked_.push_back({message.client_msg_id(), message,
                        ParseCommand(message.message()).kind == CommandKind::kMsg});
  }
  if (!stream_->Send(message)) {
    // The stream is going away; OnDone will follow. Send it on the next one.
    if (track) unacked_.pop_back();
    outbox_.push_back(std::move(original));
  }
}

void Session::EndInput() {
  if (input_ended_) return;
  input_ended_ = true;
  MaybeHalfClose();
}

void Session::MaybeHalfClose() {
  if (!input_ended_ || state_ != State::kReady || !outbox_.empty()) return;
  state_ = State::kClosing;
  drain_deadline_ = Clock::now() + options_.drain_timeout;
  stream_->HalfClose();
}

void Session::Abort() {
  if (state_ == State::kFinished) return;
  if (stream_) stream_->Cancel();
  Finish(0, "");
}

void Session::OnDone(const grpc::Status& status) {
  stream_.reset();
  const std::string detail = status.error_message().empty()
                                 ? "status " + std::to_string(status.error_code())
                                 : status.error_message();
  if (state_ == State::kClosing) {
    if (status.ok()) {
      Finish(0, "");
    } else {
      Finish(1, "the server ended the stream: " + detail);
    }
    return;
  }
  if (status.ok()) {
    Finish(0, "");
    return;
  }
  if (IsFatal(status.error_code(), ever_ready_)) {
    Finish(1, "the server refused: " + detail);
    return;
  }
  const auto now = Clock::now();
  if (!ever_ready_) {
    if (now - first_attempt_ >= options_.connect_timeout) {
      Finish(1, "cannot reach the server at " + options_.server + ": " + detail);
    } else {
      ScheduleRetry("");
    }
    return;
  }
  if (state_ == State::kReady) {
    lost_at_ = now;
    // Anything typed from now on waits in the outbox.
    output_.ShowStatus("connection lost (" + detail + "); reconnecting");
  } else if (now - lost_at_ >= options_.retry_for) {
    Finish(1, "gave up reconnecting to " + options_.server + ": " + detail);
    return;
  }
  ScheduleRetry(detail);
}

void Session::ScheduleRetry(const std::string& why) {
  state_ = State::kWaitingToRetry;
  std::uniform_real_distribution<double> jitter(0.5, 1.5);
  const auto delay = milliseconds(static_cast<long long>(backoff_.count() * jitter(random_)));
  backoff_ = std::min(backoff_ * 2, options_.backoff_max);
  retry_at_ = Clock::now() + delay;
  if (!why.empty()) output_.ShowStatus("retrying in " + Seconds(delay));
}

std::optional<Session::Clock::time_point> Session::NextDeadline() const {
  std::optional<Clock::time_point> next = retry_at_;
  if (drain_deadline_ && (!next || *drain_deadline_ < *next)) next = drain_deadline_;
  return next;
}

void Session::OnTimer() {
  const auto now = Clock::now();
  if (drain_deadline_ && now >= *drain_deadline_ && state_ == State::kClosing) {
    drain_deadline_.reset();
    if (stream_) stream_->Cancel();
    Finish(1, "the server did not finish the stream within " + Seconds(options_.drain_timeout));
    return;
  }
  if (retry_at_ && now >= *retry_at_) {
    retry_at_.reset();
    Connect();
  }
}

void Session::Finish(int code, std::string reason) {
  state_ = State::kFinished;
  retry_at_.reset();
  drain_deadline_.reset();
  exit_code_ = code;
  exit_reason_ = std::move(reason);
}

std::string Session::NextMessageId() { return id_prefix_ + std::to_string(++id_counter_); }

}  // namespace chat
