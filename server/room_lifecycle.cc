#include "server/room_lifecycle.h"

namespace chat {

void RoomLifecycle::Occupied(const std::string& room) {
  occupied_.insert(room);
  if (const auto it = empty_index_.find(room); it != empty_index_.end()) {
    empty_.erase(it->second);
    empty_index_.erase(it);
  }
}

void RoomLifecycle::Emptied(const std::string& room, time_point now) {
  occupied_.erase(room);
  if (room == permanent_ || empty_index_.contains(room)) return;
  empty_.push_back(Empty{room, now});
  empty_index_.emplace(room, std::prev(empty_.end()));
}

std::optional<std::string> RoomLifecycle::TakeIdle(time_point now) {
  // `now - since` rather than `since + idle`: idle may be duration::max().
  if (empty_.empty() || now - empty_.front().since < idle_) return std::nullopt;
  return TakeOldestEmpty();
}

std::optional<std::string> RoomLifecycle::TakeOldestEmpty() {
  if (empty_.empty()) return std::nullopt;
  std::string room = std::move(empty_.front().room);
  empty_index_.erase(room);
  empty_.pop_front();
  return room;
}

}  // namespace chat
