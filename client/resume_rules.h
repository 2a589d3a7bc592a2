#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "chat.pb.h"

// The rules by which a line client resumes, de-duplicates and re-sends:
// pure functions, shared with the Go and Python clients through the vectors
// in interop/testdata/resume.json (test/resume_vectors_test.cc).
namespace chat {

// Where a client is in one room's log: the last sequence number shown,
// within the epoch it belongs to.
struct RoomPosition {
  std::uint64_t epoch = 0;
  std::uint64_t seq = 0;
};
using RoomPositions = std::map<std::string, RoomPosition>;

// Moves `positions` past `message` (never a batch: unpack it first). False
// when the message was shown before (same epoch, seq not after the last one
// shown) and must be dropped. A GAP sets the room's position; another epoch
// is a new life of the room's log.
bool AdvancePosition(RoomPositions& positions, const ChatMessage& message);

enum class LineKind {
  kBlank,    // spaces and tabs only: not sent
  kCommand,  // sent, not tracked (/join, /who, a wrong command, ...)
  kRoom,     // said in a room: tracked, re-sent after a reconnect when no echo came
  kPrivate,  // /msg: tracked, reported (never re-sent) when no echo came
};
LineKind ClassifyLine(std::string_view line);

// The client_msg_id that `message` settles for a client named `my_name`:
// its own echo (the name ignoring case) or an ERROR carrying the id.
std::optional<std::string> SettledId(std::string_view my_name, const ChatMessage& message);

}  // namespace chat
