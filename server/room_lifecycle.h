#pragma once

#include <cstddef>
#include <functional>
#include <list>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>

#include "common/clock.h"

namespace chat {

// The books of the rooms' lives, by name (the hub owns the rooms themselves):
// which rooms have members, in name order (what /rooms lists, without
// walking the rooms nobody is in), and which are empty, in the order they
// became empty (what is reclaimed, oldest first, once idle long enough).
// Every operation is O(1) or O(log rooms with members); nothing walks all
// rooms. A room is in at most one of the two; the permanent one (the lobby)
// is never in the empty list.
//
// Not thread-safe: the hub's mutex guards it.
class RoomLifecycle {
 public:
  using time_point = Clock::time_point;

  // idle: how long a room is kept once empty (Clock::duration::max(): for
  // ever). permanent: a room that is never reclaimed.
  RoomLifecycle(Clock::duration idle, std::string permanent)
      : idle_(idle), permanent_(std::move(permanent)) {}

  // Its first member came in (it may have been waiting in the empty list).
  void Occupied(const std::string& room);
  // Its last member left at `now`.
  void Emptied(const std::string& room, time_point now);

  // The room empty longest, taken off the books, if it has been empty for
  // the idle time by `now`: the next one to reclaim.
  std::optional<std::string> TakeIdle(time_point now);
  // The room empty longest, taken off the books, however long it has been
  // empty: to make space at the room limit.
  std::optional<std::string> TakeOldestEmpty();

  // Rooms with members, in name order.
  const std::set<std::string, std::less<>>& occupied() const { return occupied_; }
  // Rooms waiting to be reclaimed.
  std::size_t empty_count() const { return empty_.size(); }

 private:
  struct Empty {
    std::string room;
    time_point since;
  };

  const Clock::duration idle_;
  const std::string permanent_;
  std::set<std::string, std::less<>> occupied_;
  std::list<Empty> empty_;  // oldest first: `since` never decreases (steady time)
  std::unordered_map<std::string, std::list<Empty>::iterator> empty_index_;  // into empty_
};

}  // namespace chat
