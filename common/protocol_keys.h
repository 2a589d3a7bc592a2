#pragma once

#include <string_view>

// Names both sides of the wire agree on. See docs/protocol.md.
namespace chat {

// Request metadata a client may send when it opens the Chat stream.
inline constexpr std::string_view kUserHeader = "chat-user";  // the name to bind
inline constexpr std::string_view kRoomHeader = "chat-room";  // room to join first
// "S": deliver the room's messages after sequence number S instead of the
// usual history (used when reconnecting).
inline constexpr std::string_view kResumeAfterHeader = "chat-resume-after";
// "E": the room epoch that S belongs to. When the room's log is in another
// epoch (the server restarted), the client gets a GAP and the whole history.
inline constexpr std::string_view kResumeEpochHeader = "chat-resume-epoch";

// "1": the client understands frames whose `batch` field packs several
// messages; the server then sends a backlog in fewer, larger frames.
inline constexpr std::string_view kBatchHeader = "chat-batch";

// `user` on messages the server itself sends (notices, errors, command
// replies). Never a valid name, so nobody can pose as the server.
inline constexpr std::string_view kServerUser = "*";

}  // namespace chat
