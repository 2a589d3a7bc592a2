#include "client/chat_stream.h"

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
  std::lock_guard lock(mu_);
  if (writes_done_ || half_close_requested_) return false;
  if (queue_.Push(std::move(message)) == WriteQueue<ChatMessage>::PushResult::kStartWrite) {
    StartWrite(&queue_.TakeBatch().front());
  }
  return true;
}

void ChatStream::HalfClose() {
  std::lock_guard lock(mu_);
  if (half_close_requested_ || writes_done_) return;
  half_close_requested_ = true;
  if (!queue_.write_in_flight()) {
    writes_done_ = true;
    StartWritesDone();
    ReleaseHoldLocked();
  }
}

void ChatStream::Cancel() { context_.TryCancel(); }

void ChatStream::OnReadDone(bool ok) {
  if (!ok) {
    // The server ended the stream (or it broke): no write will be useful now.
    std::lock_guard lock(mu_);
    writes_done_ = true;
    queue_.DropWaiting();
    ReleaseHoldLocked();
    return;
  }
  listener_->OnStreamMessage(std::move(incoming_));
  incoming_.Clear();
  StartRead(&incoming_);
}

void ChatStream::OnWriteDone(bool ok) {
  std::lock_guard lock(mu_);
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
