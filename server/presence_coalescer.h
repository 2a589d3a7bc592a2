#pragma once

#include <chrono>
#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "chat.pb.h"
#include "common/clock.h"

namespace chat {

// How joins and leaves are announced in big rooms (HubOptions::presence).
struct PresenceOptions {
  // A join or leave in a room of more members than this (counting the one who
  // comes or goes) is held back and announced with the others of its
  // interval, in one PRESENCE event. 0: never (every join and leave is its
  // own JOIN or LEAVE event, as in small rooms).
  std::size_t coalesce_above = 0;
  // How long after a room's first held join or leave its PRESENCE event goes
  // out.
  std::chrono::milliseconds interval{1000};
  // The time the interval runs on, with alarms; required when coalesce_above
  // is set. Outlives the hub.
  const AlarmClock* clock = nullptr;
};

// What one PRESENCE event tells a room: who joined it and who left it since
// the room last heard, net (someone who came and went in between is in
// neither), each in the order they first came or went, by their names now.
struct PresenceChange {
  std::string room;
  std::vector<std::string> joined;
  std::vector<std::string> left;
};

// The text of a PRESENCE event, for every client, two-field ones included:
// "12 joined #big: ana, bo, cy and 9 others", "2 left #big: dd and ee",
// "3 joined #big: ana, bo and cy; 1 left: dd". Three names at most.
std::string PresenceText(const PresenceChange& change);

// The PRESENCE event for `change`: user "*", the text, `joined` and `left`.
ChatMessage PresenceMessage(const PresenceChange& change);

// The joins and leaves of big rooms that their rooms have not heard yet.
//
// Pure bookkeeping: no lock (the hub's mutex guards it), no clock (times are
// passed in), no delivery (the hub announces what Take returns). Each name
// is tracked by NameKey: whether the room had heard of it when its first
// held change came, and whether it is in the room now; only the difference
// is announced.
class PresenceCoalescer {
 public:
  PresenceCoalescer(std::size_t coalesce_above, Clock::duration interval);

  // Whether a join or leave in a room of `room_size` members, counting the
  // one who comes or goes, is held back.
  bool Coalesces(std::size_t room_size) const {
    return coalesce_above_ > 0 && room_size > coalesce_above_;
  }

  // Records that `name` joined or left `room` at `now`. When it is the
  // room's first held change, returns the time its event is due (`now` +
  // the interval), for the caller's timer.
  std::optional<Clock::time_point> Joined(const std::string& room, const std::string& name,
                                          Clock::time_point now);
  std::optional<Clock::time_point> Left(const std::string& room, const std::string& name,
                                        Clock::time_point now);

  // Whether `room` has changes its members have not heard.
  bool Holds(const std::string& room) const { return rooms_.contains(room); }
  // Whether `name` is in `room` and the room has not heard that it came.
  bool HoldsJoinOf(const std::string& room, const std::string& name) const;

  // Takes what `room` holds: the change to announce, or nullopt when nothing
  // was held or it all cancelled out.
  std::optional<PresenceChange> Take(const std::string& room);
  // Takes every room's changes due by `now`, earliest due first (rooms whose
  // changes cancelled out give nothing).
  std::vector<PresenceChange> TakeDue(Clock::time_point now);
  // When the next room's event is due; nullopt when nothing is held.
  std::optional<Clock::time_point> NextDue() const;

  void Clear() { rooms_.clear(); }

 private:
  struct Person {
    std::string name;  // as last spelt
    bool heard;        // the room had heard of them when this interval began
    bool present;      // in the room now
  };
  struct Held {
    Clock::time_point due;
    std::vector<Person> people;                       // in order of their first change
    std::unordered_map<std::string, std::size_t> at;  // NameKey -> index in people
  };

  std::optional<Clock::time_point> Record(const std::string& room, const std::string& name,
                                          bool present, Clock::time_point now);

  const std::size_t coalesce_above_;
  const Clock::duration interval_;
  std::map<std::string, Held> rooms_;
};

}  // namespace chat
