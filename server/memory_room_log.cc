#include "server/memory_room_log.h"

namespace chat {

EnvelopePtr MemoryRoomLog::Append(ChatMessage message) {
  message.set_seq(++last_seq_);
  message.set_epoch(epoch_);
  auto envelope = MakeEnvelope(std::move(message));
  if (capacity_ == 0) return envelope;
  if (history_.size() == capacity_) history_.pop_front();
  history_.push_back(envelope);
  return envelope;
}

Replay MemoryRoomLog::Recent() const {
  return Replay{std::vector<EnvelopePtr>(history_.begin(), history_.end())};
}

Replay MemoryRoomLog::After(std::uint64_t seq) const {
  Replay replay;
  if (seq > last_seq_) {
    replay.restarted = true;
    replay.messages.assign(history_.begin(), history_.end());
    return replay;
  }
  const std::uint64_t first_kept =
      history_.empty() ? last_seq_ + 1 : history_.front()->message.seq();
  if (seq + 1 < first_kept) replay.missed = first_kept - seq - 1;
  for (const auto& envelope : history_) {
    if (envelope->message.seq() > seq) replay.messages.push_back(envelope);
  }
  return replay;
}

}  // namespace chat
