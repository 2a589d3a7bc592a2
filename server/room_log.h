#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "server/envelope.h"

namespace chat {

// What a joining member is sent from a room's history.
struct Replay {
  std::vector<EnvelopePtr> messages;  // in sequence order
  // Messages after the requested sequence number that history no longer holds.
  std::uint64_t missed = 0;
  // The requested sequence number is beyond anything this room has seen: its
  // log restarted (a server restart with in-memory history).
  bool restarted = false;
};

// The ordered log of one room: sequence numbers and recent history. Kept
// behind this interface so that rooms can later live in a shared store
// (Redis) for several servers. Not thread-safe: the hub serialises calls.
class RoomLog {
 public:
  virtual ~RoomLog() = default;

  // Gives `message` the room's next sequence number (1, 2, 3, ... with no
  // gaps), serialises it, keeps it in history and returns it.
  virtual EnvelopePtr Append(ChatMessage message) = 0;

  // The whole retained history (at most the configured length).
  virtual Replay Recent() const = 0;

  // Everything after sequence number `seq`, as far as history reaches.
  virtual Replay After(std::uint64_t seq) const = 0;

  virtual std::uint64_t last_seq() const = 0;

  // Identifies this life of the log; stamped on every message it appends.
  virtual std::uint64_t epoch() const = 0;
};

using RoomLogFactory = std::function<std::unique_ptr<RoomLog>(const std::string& room)>;

}  // namespace chat
