// The hub's room lifecycle: rooms made on first entry within the limits,
// reclaimed once they have been empty for the idle time (docs/architecture.md,
// "Room lifecycle").
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>

#include "common/text_rules.h"
#include "server/hub.h"

namespace chat {

TokenBucket Hub::RoomCreationLimit(std::size_t per_minute, Clock::time_point now) {
  const auto rooms = static_cast<double>(per_minute);
  return TokenBucket(rooms / 60, rooms, now);
}

Hub::RoomRefusal Hub::MakeRoomForLocked(Member& member, const std::string& room) {
  if (room == kDefaultRoom || rooms_.contains(room)) return RoomRefusal::kNone;
  ReclaimIdleRoomsLocked();
  const Clock::time_point now = options_.clock->Now();
  if (member.room_creation.NextTokenAt(now) > now) return RoomRefusal::kCreatingTooFast;
  if (options_.max_rooms > 0) {
    // Annotated: the analysis checks a lambda on its own, not as part of this function.
    const auto counted = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return rooms_.size() - (rooms_.contains(std::string(kDefaultRoom)) ? 1 : 0);
    };
    if (counted() >= options_.max_rooms) {
      // Make space: the room empty longest goes early, its history with it.
      if (std::optional<std::string> oldest = lifecycle_.TakeOldestEmpty()) ReclaimLocked(*oldest);
    }
    if (counted() >= options_.max_rooms) {
      std::uint64_t held_back = 0;
      if (room_limit_log_.Allow(now, &held_back)) {
        spdlog::warn(
            "room limit reached: {} rooms, none of them empty; refused #{} to {} ({} more such "
            "refusals since the last warning); raise --max-rooms if this is not an attack",
            counted(), room, member.name, held_back);
      }
      return RoomRefusal::kServerFull;
    }
  }
  member.room_creation.TryTake(now);
  return RoomRefusal::kNone;
}

std::string Hub::RoomRefusalText(RoomRefusal refusal, Member& member,
                                 const std::string& room) const {
  switch (refusal) {
    case RoomRefusal::kNone:
      break;
    case RoomRefusal::kServerFull:
      // The same words whether the member is joining (a stream status) or
      // switching (/join): a person reads both.
      return "cannot join #" + room + ": the server has " + std::to_string(options_.max_rooms) +
             " rooms, its limit; join a room that exists (/rooms lists them) or the lobby";
    case RoomRefusal::kCreatingTooFast: {
      const Clock::time_point now = options_.clock->Now();
      const auto wait = std::chrono::duration<double>(member.room_creation.NextTokenAt(now) - now);
      // Whole seconds, rounded up (but for rounding noise in the bucket's sums).
      const long seconds = std::max(1L, static_cast<long>(std::ceil(wait.count() - 1e-3)));
      spdlog::debug("{} may not create #{} yet: creating rooms too fast", member.name, room);
      return "cannot create #" + room + ": you may create " +
             std::to_string(options_.new_rooms_per_minute) + " rooms a minute; try again in " +
             std::to_string(seconds) + (seconds == 1 ? " second" : " seconds") +
             ", or join a room that exists";
    }
  }
  return {};
}

void Hub::ReclaimIdleRooms() {
  MutexLock lock(&mu_);
  ReclaimIdleRoomsLocked();
}

void Hub::ReclaimIdleRoomsLocked() {
  if (options_.room_idle == Clock::duration::max()) return;
  const Clock::time_point now = options_.clock->Now();
  while (std::optional<std::string> room = lifecycle_.TakeIdle(now)) ReclaimLocked(*room);
}

void Hub::ReclaimLocked(const std::string& room) {
  // Nobody is in it (the lifecycle only hands out empty rooms): no member
  // points at it, and only its history goes.
  rooms_.erase(room);
  presence_.Take(room);  // held presence: nobody is left to tell
  spdlog::debug("reclaimed #{}, empty for a while", room);
}

}  // namespace chat
