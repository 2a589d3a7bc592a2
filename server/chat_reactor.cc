#include "server/chat_reactor.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdio>

#include "chat_lenient.pb.h"
#include "common/protocol_keys.h"
#include "common/terminal_text.h"
#include "common/text_rules.h"
#include "common/token_bucket.h"
#include "server/batch_frame.h"
#include "server/resume_metadata.h"

namespace chat {
namespace {

std::optional<std::string> Metadata(const grpc::CallbackServerContext& context,
                                    std::string_view key) {
  const auto& metadata = context.client_metadata();
  const auto it = metadata.find(grpc::string_ref(key.data(), key.size()));
  if (it == metadata.end()) return std::nullopt;
  return std::string(it->second.data(), it->second.size());
}

std::string FormatRate(double rate) {
  char text[32];
  std::snprintf(text, sizeof text, "%g", rate);
  return text;
}

}  // namespace

ChatReactor::ChatReactor(grpc::CallbackServerContext* context, Hub& hub, Options options)
    : context_(context),
      hub_(hub),
      options_(options),
      peer_(context->peer()),
      backlog_(options.queue) {
  options_.metrics->StreamStarted();
  if (options_.stream_limit != nullptr) {
    slot_ = options_.stream_limit->Acquire(peer_);
    if (!slot_) {
      EndStream({grpc::StatusCode::RESOURCE_EXHAUSTED,
                 "too many streams from your address (" +
                     std::to_string(options_.stream_limit->per_address()) +
                     " are open); close some and try again"},
                "");
      return;
    }
  }
  for (const auto& [header, field] : {std::pair{kResumeAfterHeader, &join_.resume_after},
                                      std::pair{kResumeEpochHeader, &join_.resume_epoch}}) {
    const auto value = Metadata(*context, header);
    if (!value) continue;
    const std::optional<std::uint64_t> number = ParseResumeNumber(*value);
    if (!number) {
      EndStream({grpc::StatusCode::INVALID_ARGUMENT, ResumeNumberError(header, *value)}, "");
      return;
    }
    *field = *number;
  }
  // Sent with the first write: the flood limit, so clients can pace to it.
  const double rate = hub_.rate_limit();
  context->AddInitialMetadata(std::string(kRateLimitHeader), FormatRate(rate));
  context->AddInitialMetadata(std::string(kRateBurstHeader),
                              FormatRate(rate > 0 ? FloodBurst(rate) : 0));
  batching_ = Metadata(*context, kBatchHeader) == "1";
  join_.name = Metadata(*context, kUserHeader).value_or("");
  join_.room = Metadata(*context, kRoomHeader).value_or("");
  if (options_.verifier != nullptr && !Authenticate()) return;
  // With a name in the metadata the user joins at once. Without one the
  // stream is a reader, receiving its room from now on, until its first
  // message names it.
  if (join_.name.empty() ? !ListenHub() : !JoinHub(join_.name, join_.room)) return;
  StartRead(&incoming_);
}

bool ChatReactor::Authenticate() {
  const std::int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                               std::chrono::system_clock::now().time_since_epoch())
                               .count();
  auto verdict = options_.verifier->Verify(Metadata(*context_, kAuthorizationHeader), now);
  if (const auto* refusal = std::get_if<TokenRefusal>(&verdict)) {
    options_.verifier->refusals().Refused("refused a stream from " + peer_ + ": " +
                                          std::string(refusal->reason));
    EndStream({grpc::StatusCode::UNAUTHENTICATED, refusal->message}, "");
    return false;
  }
  TokenIdentity& identity = std::get<TokenIdentity>(verdict);
  if (!join_.name.empty() && NameKey(join_.name) != NameKey(identity.subject)) {
    options_.verifier->refusals().Refused("refused a stream from " + peer_ +
                                          ": a name other than its token's");
    EndStream({grpc::StatusCode::PERMISSION_DENIED,
               "your token is for '" + identity.subject + "', not '" + QuoteSent(join_.name) + "'"},
              "");
    return false;
  }
  // Named at once: with tokens there are no anonymous readers.
  join_.name = std::move(identity.subject);
  join_.permissions.fixed_name = true;
  join_.permissions.rooms = std::move(identity.rooms);
  return true;
}

bool ChatReactor::ListenHub() {
  entered_hub_ = true;
  const grpc::Status status = hub_.Listen(this, join_);
  if (!status.ok()) {
    spdlog::info("refused a reader from {}: {}", peer_, status.error_message());
    MutexLock lock(&mu_);
    CloseLocked(status);
    return false;
  }
  spdlog::debug("a reader connected from {}", peer_);
  return true;
}

bool ChatReactor::JoinHub(std::string name, std::string room) {
  join_.name = std::move(name);
  join_.room = std::move(room);
  {
    // Deliver (on a hub thread) may log it from inside Join.
    MutexLock lock(&mu_);
    name_for_logs_ = join_.name;
  }
  entered_hub_ = true;
  const grpc::Status status = hub_.Join(this, join_);
  if (!status.ok()) {
    // A token's rooms claim stays out of the log.
    spdlog::info("refused {} from {}: {}", QuoteSent(join_.name), peer_,
                 status.error_code() == grpc::StatusCode::PERMISSION_DENIED
                     ? "a room its token does not allow"
                     : status.error_message());
    EndStream(status, "");  // it may be in the hub as a reader
    return false;
  }
  joined_ = true;
  spdlog::info("{} connected from {}", join_.name, peer_);
  return true;
}

void ChatReactor::OnReadDone(bool ok) {
  if (!ok) {
    // Half-close (the client is done sending) or a broken stream: flush what
    // is queued and end with OK; a broken stream's writes fail and end it anyway.
    EndStream(grpc::Status::OK, context_->IsCancelled() ? "connection lost" : "");
    return;
  }
  HandleIncoming();
}

void ChatReactor::HandleIncoming() {
  internal::LenientChatMessage message;
  grpc::Slice bytes;
  if (!incoming_.TrySingleSlice(&bytes).ok() && !incoming_.DumpToSingleSlice(&bytes).ok()) {
    EndStream({grpc::StatusCode::INTERNAL, "could not read the message"}, "protocol error");
    return;
  }
  if (!message.ParseFromArray(bytes.begin(), static_cast<int>(bytes.size()))) {
    EndStream({grpc::StatusCode::INVALID_ARGUMENT, "the message is not a valid chat.ChatMessage"},
              "protocol error");
    return;
  }
  if (!joined_) {
    if (join_.name.empty() && message.user().empty()) {
      EndStream({grpc::StatusCode::INVALID_ARGUMENT,
                 "no user name: send 'chat-user' metadata or set `user` in your first message"},
                "");
      return;
    }
    std::string name = join_.name.empty() ? message.user() : join_.name;
    std::string room = join_.room.empty() ? message.room() : join_.room;
    if (!JoinHub(std::move(name), std::move(room))) return;
  }
  Hub::Receipt receipt = hub_.Receive(this, message.message(), message.client_msg_id());
  // Read on before writing: the message is ordered already, and the next one
  // can be read and queued (on another thread) while this one's writes go out.
  // A held line stops the reading until the hub posts it (Resume).
  if (!receipt.held) StartRead(&incoming_);
  receipt.flush.Run();
  if (options_.linger != nullptr) options_.linger->FlushDue();
}

void ChatReactor::EndStream(const grpc::Status& status, std::string_view reason) {
  // Before taking mu_: lock order is hub, then reactor. A stream refused
  // before the hub (its address's limit, its token) never takes the hub's mutex.
  if (entered_hub_) hub_.Leave(this, reason);
  MutexLock lock(&mu_);
  CloseLocked(status);
}

Subscriber::Delivered ChatReactor::Deliver(EnvelopePtr envelope) {
  MutexLock lock(&mu_);
  if (closing_) return Delivery::kRefused;
  if (!backlog_.Fits(*envelope)) {
    CutOffLocked();
    return Delivery::kRefused;
  }
  backlog_.Pushed(*envelope);
  options_.metrics->queue_depth.Observe(backlog_.live_messages());
  options_.metrics->queued_bytes.Observe(backlog_.live_bytes());
  const bool backlogged = backlog_.backlogged();
  switch (queue_.Push(std::move(envelope))) {
    case WriteQueue<EnvelopePtr>::PushResult::kStartWrite:
      if (held_ && FullBatchWaitingLocked()) {
        // End the hold now: the hub flushes at once; the linger's own Flush
        // comes later and finds nothing to do, or starts the next write early.
        held_ = false;
        return {Delivery::kFlushNeeded, backlogged};
      }
      if (flush_pending_) return {Delivery::kQueued, backlogged};  // the coming Flush takes it
      flush_pending_ = true;
      return {Delivery::kFlushNeeded, backlogged};
    case WriteQueue<EnvelopePtr>::PushResult::kQueued:
    case WriteQueue<EnvelopePtr>::PushResult::kFull:  // never: the queue is unbounded
      return {Delivery::kQueued, backlogged};
  }
  return {Delivery::kQueued, backlogged};
}

void ChatReactor::CutOffLocked() {
  options_.metrics->SlowConsumerCut();
  // Rate-limited by its nature: each stream is cut once.
  spdlog::warn("disconnecting {} ({}): {} messages ({} bytes) are waiting for it",
               name_for_logs_.empty() ? "a reader" : name_for_logs_, peer_,
               backlog_.live_messages(), backlog_.live_bytes());
  queue_.DropWaiting();
  backlog_.DroppedWaiting();
  CloseLocked({grpc::StatusCode::RESOURCE_EXHAUSTED,
               "disconnected: more than " + std::to_string(options_.queue.messages) +
                   " messages or " + std::to_string(options_.queue.bytes) +
                   " bytes were waiting for this client; it is not reading fast enough"});
}

bool ChatReactor::Backlogged() {
  MutexLock lock(&mu_);
  return backlog_.backlogged();
}

void ChatReactor::Resume() {
  {
    MutexLock lock(&mu_);
    if (finished_) return;  // cancelled while held: OnDone may have run
    ++starting_read_;
  }
  StartRead(&incoming_);
  MutexLock lock(&mu_);
  --starting_read_;
  MaybeFinishLocked();
}

void ChatReactor::Flush() {
  const grpc::ByteBuffer* frame = nullptr;
  {
    MutexLock lock(&mu_);
    flush_pending_ = false;
    held_ = false;
    if (finished_ || queue_.write_in_flight()) return;
    if (queue_.waiting() == 0) {
      MaybeFinishLocked();  // e.g. cancelled meanwhile: what waited was dropped
      return;
    }
    frame = WriteNowOrLingerLocked();
    if (frame == nullptr) return;
  }
  // Outside the mutex: the write may run the whole send path on this thread.
  // Safe because nothing else starts a write or finishes while one is in
  // flight, and the frame stays put until OnWriteDone.
  StartWrite(frame);
}

void ChatReactor::Unref() {
  if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
}

void ChatReactor::Close(const grpc::Status& status) {
  MutexLock lock(&mu_);
  CloseLocked(status);
}

void ChatReactor::OnWriteDone(bool ok) {
  const grpc::ByteBuffer* frame = nullptr;
  bool drained = false;
  {
    MutexLock lock(&mu_);
    if (!ok) {
      // The stream is broken (client gone or cancelled): nothing more can be sent.
      if (!closing_) closing_ = grpc::Status(grpc::StatusCode::CANCELLED, "write failed");
      queue_.DropWaiting();
      backlog_.DroppedWaiting();
    }
    // Release the batch frame just written now, not when the next batch
    // replaces it: it may hold a whole history replay for the stream's life.
    frame_.Clear();
    drained = backlog_.WriteDone();
    if (queue_.WriteDone()) frame = WriteNowOrLingerLocked();
    if (frame == nullptr) MaybeFinishLocked();
  }
  if (frame != nullptr) StartWrite(frame);  // outside the mutex, as in Flush
  if (drained) hub_.Drained(this);          // lock order: the hub's mutex is taken without ours
  // On a completion-queue thread: the best place to start held writes (see WriteLinger).
  if (options_.linger != nullptr) options_.linger->FlushDue();
}

void ChatReactor::OnCancel() {
  MutexLock lock(&mu_);
  queue_.DropWaiting();
  backlog_.DroppedWaiting();  // the hub drops the member soon: no need to tell it
  CloseLocked({grpc::StatusCode::CANCELLED, "cancelled"});
}

void ChatReactor::Renamed(const std::string& name) {
  MutexLock lock(&mu_);
  name_for_logs_ = name;
}

void ChatReactor::OnDone() {
  if (entered_hub_) hub_.Leave(this, "connection lost");
  std::string status;
  std::string name;
  {
    MutexLock lock(&mu_);
    name = name_for_logs_;
    if (closing_ && closing_->ok()) {
      status = "OK";
    } else if (closing_) {
      status = "code " + std::to_string(closing_->error_code()) + ": " + closing_->error_message();
    }
  }
  if (joined_) spdlog::info("{} disconnected ({}), status {}", name, peer_, status);
  options_.metrics->StreamDone();
  Unref();  // gRPC's reference; a Flush under way may hold another
}

const grpc::ByteBuffer* ChatReactor::WriteNowOrLingerLocked() {
  // Only streams that take batches ever linger; the others never read the clock.
  if (batching_ && options_.linger != nullptr) {
    const auto now = options_.linger->Now();
    if (!closing_ && !FullBatchWaitingLocked()) {
      const auto due = options_.linger->HoldUntil(last_write_, now);
      if (due && options_.linger->Hold(this, *due)) {
        held_ = true;
        flush_pending_ = true;  // Deliver just queues until the linger's Flush
        return nullptr;
      }
    }
    last_write_ = now;
  }
  return TakeNextWriteLocked();
}

bool ChatReactor::FullBatchWaitingLocked() const {
  return queue_.waiting() >= std::min(kMaxBatchMessages, options_.queue.messages / 2);
}

const grpc::ByteBuffer* ChatReactor::TakeNextWriteLocked() {
  const auto& batch =
      queue_.TakeBatch(batching_ ? kMaxBatchMessages : 1, kMaxBatchBytes,
                       [](const EnvelopePtr& envelope) { return envelope->bytes.size(); });
  backlog_.Taken(batch);
  const auto now = std::chrono::steady_clock::now();
  for (const EnvelopePtr& envelope : batch) {
    options_.metrics->send_to_write_ns.Observe(static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(now - envelope->accepted).count()));
  }
  // No WriteOptions::set_buffer_hint() for "more follows": chttp2 may hold a
  // hinted write, and its completion, until a later unhinted write, which we
  // only start from that completion: the stream would stall.
  if (batch.size() == 1) return &batch.front()->wire;  // shared, read-only; gRPC refs the slices
  frame_ = MakeBatchFrame(batch);
  return &frame_;
}

void ChatReactor::CloseLocked(const grpc::Status& status) {
  if (!closing_) closing_ = status;
  MaybeFinishLocked();
}

void ChatReactor::MaybeFinishLocked() {
  if (finished_ || !closing_ || !queue_.empty() || starting_read_ > 0) return;
  finished_ = true;
  Finish(*closing_);
}

}  // namespace chat
