#include "client/chat_stream.h"

#include <cstdlib>
#include <optional>

#include "common/protocol_keys.h"

namespace chat {

ChatStream::ChatStream(ChatService::Stub& stub, const std::map<std::string, std::string>& metadata,
                       std::shared_ptr<ChatStreamListener> listener)
    : listener_(std::move(listener)) {
  for (const auto& [key, value] : metadata) context_.AddMetadata(key, value);
  stub.async()->Chat(&context_, this);
}

void ChatStream::Start() {
  self_ = shared_from_this();
  AddHold();
  StartRead(&incoming_);
  StartCall();
}

bool ChatStream::Send(ChatMessage message) {
  MutexLock lock(&mu_);
  if (writes_done_ || half_close_requested_) return false;
  if (queue_.Push(std::move(message)) == WriteQueue<ChatMessage>::PushResult::kStartWrite) {
    StartWrite(&queue_.TakeBatch().front());
  }
  return true;
}

void ChatStream::HalfClose() {
  MutexLock lock(&mu_);
  if (half_close_requested_ || writes_done_) return;
  half_close_requested_ = true;
  if (!queue_.write_in_flight()) {
    writes_done_ = true;
    StartWritesDone();
    ReleaseHoldLocked();
  }
}

void ChatStream::Cancel() { context_.TryCancel(); }

void ChatStream::ReportLimit() {
  const auto& metadata = context_.GetServerInitialMetadata();
  const auto number = [&](std::string_view key) -> std::optional<double> {
    const auto it = metadata.find(grpc::string_ref(key.data(), key.size()));
    if (it == metadata.end()) return std::nullopt;
    const std::string text(it->second.data(), it->second.size());
    char* end = nullptr;
    const double value = std::strtod(text.c_str(), &end);
    if (end == text.c_str() || *end != '\0' || !(value >= 0)) return std::nullopt;
    return value;
  };
  const auto rate = number(kRateLimitHeader);
  if (!rate) return;  // an older server, or another implementation: no pacing
  listener_->OnStreamLimit({*rate, number(kRateBurstHeader).value_or(*rate)});
}

void ChatStream::OnReadDone(bool ok) {
  if (!ok) {
    // The server ended the stream (or it broke): no write will be useful now.
    MutexLock lock(&mu_);
    writes_done_ = true;
    queue_.DropWaiting();
    ReleaseHoldLocked();
    return;
  }
  // Initial metadata has arrived by the first message; reported from the read
  // chain (not OnReadInitialMetadataDone, which may run beside OnReadDone) so
  // that the limit always comes before the first message.
  if (!limit_reported_) {
    limit_reported_ = true;
    ReportLimit();
  }
  listener_->OnStreamMessage(std::move(incoming_));
  incoming_.Clear();
  StartRead(&incoming_);
}

void ChatStream::OnWriteDone(bool ok) {
  MutexLock lock(&mu_);
  if (!ok) {
    writes_done_ = true;
    queue_.DropWaiting();
  }
  if (queue_.WriteDone() && !writes_done_) {
    StartWrite(&queue_.TakeBatch().front());
    return;
  }
  if (half_close_requested_ && !writes_done_) {
    writes_done_ = true;
    StartWritesDone();
    ReleaseHoldLocked();
  }
}

void ChatStream::OnDone(const grpc::Status& status) {
  listener_->OnStreamDone(status);
  self_.reset();  // may delete this: nothing may follow
}

void ChatStream::ReleaseHoldLocked() {
  if (hold_released_) return;
  hold_released_ = true;
  RemoveHold();
}

}  // namespace chat
