#pragma once

#include <cstddef>
#include <deque>

#include "server/room_log.h"

namespace chat {

// A room log in process memory: the last `capacity` messages in a ring.
class MemoryRoomLog final : public RoomLog {
 public:
  // epoch: any number unlikely to repeat across server runs.
  MemoryRoomLog(std::size_t capacity, std::uint64_t epoch) : capacity_(capacity), epoch_(epoch) {}

  EnvelopePtr Append(ChatMessage message) override;
  Replay Recent() const override;
  Replay After(std::uint64_t seq) const override;
  std::uint64_t last_seq() const override { return last_seq_; }
  std::uint64_t epoch() const override { return epoch_; }

 private:
  std::size_t capacity_;
  std::uint64_t epoch_;
  std::deque<EnvelopePtr> history_;  // oldest first, contiguous sequence numbers
  std::uint64_t last_seq_ = 0;
};

}  // namespace chat
