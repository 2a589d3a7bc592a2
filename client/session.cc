#include "client/session.h"

#include <poll.h>

#include <algorithm>
#include <cstdio>

#include "client/credentials.h"
#include "client/resume_rules.h"
#include "common/command.h"
#include "common/protocol_keys.h"
#include "common/text_rules.h"

namespace chat {
namespace {

// grpc::StatusCode's name as gRPC spells it (UNAUTHENTICATED...).
std::string StatusCodeName(grpc::StatusCode code) {
  static constexpr const char* kNames[] = {"OK",
                                           "CANCELLED",
                                           "UNKNOWN",
                                           "INVALID_ARGUMENT",
                                           "DEADLINE_EXCEEDED",
                                           "NOT_FOUND",
                                           "ALREADY_EXISTS",
                                           "PERMISSION_DENIED",
                                           "RESOURCE_EXHAUSTED",
                                           "FAILED_PRECONDITION",
                                           "ABORTED",
                                           "OUT_OF_RANGE",
                                           "UNIMPLEMENTED",
                                           "INTERNAL",
                                           "UNAVAILABLE",
                                           "DATA_LOSS",
                                           "UNAUTHENTICATED"};
  const auto index = static_cast<std::size_t>(code);
  return index < std::size(kNames) ? kNames[index] : "status " + std::to_string(index);
}

using std::chrono::duration_cast;
using std::chrono::milliseconds;

// Forwards one stream's reports to the inbox, tagged with the stream's id so
// that late reports from an abandoned stream can be told apart.
class StreamEvents final : public ChatStreamListener {
 public:
  StreamEvents(std::shared_ptr<Inbox> inbox, std::uint64_t id)
      : inbox_(std::move(inbox)), id_(id) {}
  void OnStreamLimit(FloodLimit limit) override {
    inbox_->Push({id_, std::nullopt, std::nullopt, limit});
  }
  void OnStreamMessage(ChatMessage message) override {
    inbox_->Push({id_, std::move(message), std::nullopt, std::nullopt});
  }
  void OnStreamDone(const grpc::Status& status) override {
    inbox_->Push({id_, std::nullopt, status, std::nullopt});
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

bool IsTracked(const std::string& line) {
  const LineKind kind = ClassifyLine(line);
  return kind == LineKind::kRoom || kind == LineKind::kPrivate;
}

bool IsBlank(std::string_view line) { return ClassifyLine(line) == LineKind::kBlank; }

bool StartsWithIgnoringCase(std::string_view text, std::string_view prefix) {
  return text.size() >= prefix.size() && NameKey(text.substr(0, prefix.size())) == NameKey(prefix);
}

// Our pace keeps a margin under the server's limit: the server counts a line
// when it arrives, and lines sent evenly can arrive bunched.
TokenBucket PacerFor(FloodLimit limit, TokenBucket::TimePoint now) {
  return TokenBucket(limit.rate * 0.9, std::max(1.0, limit.burst - 2), now);
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
  if (!options_.tls.server_name.empty()) args.SetSslTargetNameOverride(options_.tls.server_name);
  channel_ = grpc::CreateCustomChannel(options_.server, ChannelCredentials(options_.tls), args);
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
  if (!options_.token.empty()) {
    metadata[std::string(kAuthorizationHeader)] = "Bearer " + options_.token;
  }
  if (const auto it = positions_.find(room_); it != positions_.end()) {
    metadata[std::string(kResumeAfterHeader)] = std::to_string(it->second.seq);
    metadata[std::string(kResumeEpochHeader)] = std::to_string(it->second.epoch);
  }
  state_ = State::kConnecting;
  pacer_.reset();  // each stream says its server's limit
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
    if (event.limit && event.limit->rate > 0) pacer_ = PacerFor(*event.limit, Clock::now());
    if (event.message) OnMessage(std::move(*event.message));
    if (event.done) OnDone(*event.done);
  }
}

void Session::OnMessage(ChatMessage message) {
  if (message.batch_size() > 0) {
    for (ChatMessage& inner : *message.mutable_batch()) OnMessage(std::move(inner));
    return;
  }
  if (!AdvancePosition(positions_, message)) return;
  // Our own echo acknowledges a line; an ERROR carrying its id refused it.
  // Either way it is settled and never re-sent.
  if (const auto settled = SettledId(name_, message)) {
    const auto it = std::find_if(unacked_.begin(), unacked_.end(),
                                 [&](const PendingLine& p) { return p.id == *settled; });
    if (it != unacked_.end()) {
      const std::string line = it->message.message();
      unacked_.erase(it);
      UpdateLink();
      if (message.kind() == ERROR) {
        ++refused_;
        output_.ShowRefused(line, message);
        return;
      }
    }
  }
  TrackMembers(message);
  // The replay on the first join and on a /join is what --no-history skips;
  // a replay after a reconnect is what was missed, and is always shown.
  const bool skip =
      message.replay() && !options_.show_history && (!ever_ready_ || message.room() != room_);
  if (!skip) output_.ShowMessage(message);
  // Only live events change who we are: history may hold an old rename of
  // someone who had our name before.
  if (message.kind() == RENAME && !message.replay() && SameName(message.user(), name_)) {
    name_ = message.subject();
    output_.SetIdentity(name_, room_);
  }
  if (message.kind() == JOIN && !message.replay() && SameName(message.subject(), name_)) {
    room_ = message.room();
    std::erase_if(members_, [&](const auto& room) { return room.first != room_; });
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

  name_taken_reported_ = false;
  // Lines sent before the loss and not echoed in what we just replayed go
  // first, then what was typed meanwhile.
  std::deque<Outgoing> resend;
  for (PendingLine& line : std::exchange(unacked_, {})) {
    if (line.private_message) {
      // Private messages have no history to check against: say so rather
      // than risk sending one twice.
      output_.ShowStatus("not confirmed before the connection was lost (resend if needed): " +
                         line.message.message());
      continue;
    }
    line.message.clear_client_msg_id();
    resend.push_back({std::move(line.message), true});
  }
  outbox_.insert(outbox_.begin(), std::make_move_iterator(resend.begin()),
                 std::make_move_iterator(resend.end()));
  SendWaiting();
}

void Session::SendLine(const std::string& line) {
  if (IsBlank(line) || state_ == State::kFinished) return;
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
  Write(std::move(message), IsTracked(line));
}

void Session::Write(ChatMessage message, bool track) {
  outbox_.push_back({std::move(message), track});
  SendWaiting();
}

void Session::SendWaiting() {
  pace_at_.reset();
  while (state_ == State::kReady && stream_ && !outbox_.empty()) {
    const auto now = Clock::now();
    if (pacer_ && !pacer_->TryTake(now)) {
      pace_at_ = pacer_->NextTokenAt(now);
      break;
    }
    ChatMessage message = outbox_.front().message;
    const bool track = outbox_.front().track;
    if (track) {
      message.set_client_msg_id(NextMessageId());
      unacked_.push_back({message.client_msg_id(), message,
                          ClassifyLine(message.message()) == LineKind::kPrivate});
    }
    if (!stream_->Send(message)) {
      // The stream is going away; OnDone will follow. Send it on the next one.
      if (track) unacked_.pop_back();
      break;
    }
    outbox_.pop_front();
  }
  UpdateLink();
  MaybeHalfClose();
}

void Session::UpdateLink() {
  LinkState link;
  // Lines in flight are not pending while connected: their echo is a moment away.
  link.pending = outbox_.size() + (state_ == State::kReady ? 0 : unacked_.size());
  switch (state_) {
    case State::kConnecting:
      link.phase = ever_ready_ ? LinkState::Phase::kReconnecting : LinkState::Phase::kConnecting;
      break;
    case State::kWaitingToRetry:
      link.phase = ever_ready_ ? LinkState::Phase::kReconnecting : LinkState::Phase::kConnecting;
      if (retry_at_) {
        link.retry_in =
            std::max(milliseconds(0), duration_cast<milliseconds>(*retry_at_ - Clock::now()));
      }
      break;
    default:
      link.phase = LinkState::Phase::kConnected;
  }
  output_.SetLink(link);
}

void Session::TrackMembers(const ChatMessage& message) {
  if (message.room().empty()) return;
  auto& members = members_[message.room()];
  const auto add = [&](const std::string& name) {
    if (!name.empty() && name != kServerUser) members[NameKey(name)] = name;
  };
  switch (message.kind()) {
    case JOIN:
      add(message.subject());
      break;
    case LEAVE:
      members.erase(NameKey(message.subject()));
      break;
    case RENAME:
      members.erase(NameKey(message.user()));
      add(message.subject());
      break;
    case PRESENCE:  // joins and leaves of a big room, together
      for (const std::string& name : message.joined()) add(name);
      for (const std::string& name : message.left()) members.erase(NameKey(name));
      break;
    case CHAT:
    case ACTION:
      add(message.user());
      break;
    default:
      break;
  }
}

std::vector<std::string> Session::Complete(std::string_view line, std::string_view word) const {
  std::vector<std::string> found;
  const bool line_start = IsBlank(line);
  if (line_start && word.starts_with('/')) {
    std::vector<std::string> commands = CommandNames();
    commands.push_back("/quit");
    for (const std::string& command : commands) {
      if (StartsWithIgnoringCase(command, word)) found.push_back(command);
    }
    return found;
  }
  const auto room = members_.find(room_);
  if (room == members_.end()) return found;
  for (const auto& [key, name] : room->second) {
    if (SameName(name, name_) || !StartsWithIgnoringCase(name, word)) continue;
    // "pete: " addresses pete at the start of a line; elsewhere (after
    // "/msg ", mid-sentence) the name stands alone.
    found.push_back(line_start ? name + ":" : name);
  }
  return found;
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
    // The status code's name, as the Go and Python clients say it too.
    Finish(1, "the server refused the connection: " + StatusCodeName(status.error_code()) + ": " +
                  detail);
    return;
  }
  const auto now = Clock::now();
  if (!ever_ready_ && status.error_code() == grpc::StatusCode::UNAVAILABLE &&
      status.error_message().find("Connection refused") != std::string::npos) {
    // Nothing listens there: waiting out --connect-timeout would not help.
    Finish(1, "nothing is listening at " + options_.server +
                  " (connection refused); is chat-server running there?");
    return;
  }
  const bool name_taken = status.error_code() == grpc::StatusCode::ALREADY_EXISTS;
  if (name_taken && !name_taken_reported_) {
    name_taken_reported_ = true;
    output_.ShowStatus("the server says the name '" + name_ +
                       "' is in use: either your old connection has not timed out yet (this "
                       "clears by itself) or someone else took the name while you were away; if "
                       "it goes on, /quit and come back with --name ANOTHER");
  }
  if (!ever_ready_) {
    if (now - first_attempt_ >= options_.connect_timeout) {
      char seconds[32];
      std::snprintf(seconds, sizeof seconds, "%g",
                    std::chrono::duration<double>(options_.connect_timeout).count());
      Finish(1, "cannot reach the server at " + options_.server + " within " + seconds +
                    " s: " + detail + TlsHint(status.error_message(), options_.tls.enabled));
    } else {
      ScheduleRetry();
    }
    return;
  }
  if (state_ == State::kReady) {
    lost_at_ = now;
    // Anything typed from now on waits in the outbox.
    output_.ShowStatus("connection lost (" + detail + "); reconnecting");
  } else if (now - lost_at_ >= options_.retry_for) {
    Finish(1, "gave up reconnecting to " + options_.server + ": " + detail +
                  (name_taken ? " (someone else has the name; come back with --name ANOTHER)"
                              : TlsHint(status.error_message(), options_.tls.enabled)));
    return;
  }
  ScheduleRetry();
}

void Session::ScheduleRetry() {
  state_ = State::kWaitingToRetry;
  std::uniform_real_distribution<double> jitter(0.5, 1.5);
  const auto delay = milliseconds(static_cast<long long>(backoff_.count() * jitter(random_)));
  backoff_ = std::min(backoff_ * 2, options_.backoff_max);
  retry_at_ = Clock::now() + delay;
  next_tick_ = Clock::now() + std::chrono::seconds(1);
  UpdateLink();  // the prompt counts down to the next attempt
}

std::optional<Session::Clock::time_point> Session::NextDeadline() const {
  std::optional<Clock::time_point> next;
  for (const auto& deadline : {retry_at_, drain_deadline_, pace_at_, next_tick_}) {
    if (deadline && (!next || *deadline < *next)) next = deadline;
  }
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
    next_tick_.reset();
    Connect();
    UpdateLink();
  }
  if (next_tick_ && now >= *next_tick_) {
    next_tick_ = *next_tick_ + std::chrono::seconds(1);
    UpdateLink();
  }
  if (pace_at_ && now >= *pace_at_) SendWaiting();
}

void Session::Finish(int code, std::string reason) {
  state_ = State::kFinished;
  retry_at_.reset();
  drain_deadline_.reset();
  pace_at_.reset();
  next_tick_.reset();
  if (code == 0 && options_.fail_on_refused && refused_ > 0) {
    code = kExitRefused;
    reason = std::to_string(refused_) + " line(s) were refused by the server";
  }
  exit_code_ = code;
  exit_reason_ = std::move(reason);
}

std::string Session::NextMessageId() { return id_prefix_ + std::to_string(++id_counter_); }

}  // namespace chat
