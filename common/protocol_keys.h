#pragma once

#include <string_view>

// Names both sides of the wire agree on. See docs/protocol.md.
namespace chat {

// Request metadata a client may send when it opens the Chat stream.
inline constexpr std::string_view kUserHeader = "chat-user";  // the name to bind
inline constexpr std::string_view kRoomHeader = "chat-room";  // room to join first
// "Bearer <JWT>" on servers started with --auth-jwt-key (docs/security.md).
inline constexpr std::string_view kAuthorizationHeader = "authorization";
// "S": deliver the room's messages after sequence number S instead of the
// usual history (used when reconnecting).
inline constexpr std::string_view kResumeAfterHeader = "chat-resume-after";
// "E": the room epoch that S belongs to. When the room's log is in another
// epoch (the server restarted), the client gets a GAP and the whole history.
inline constexpr std::string_view kResumeEpochHeader = "chat-resume-epoch";

// "1": the client understands frames whose `batch` field packs several
// messages; the server then sends a backlog in fewer, larger frames.
inline constexpr std::string_view kBatchHeader = "chat-batch";

// Initial metadata the server sends on every Chat stream: its flood limit,
// in lines per second and the burst it allows ("20", "40"; "0": no limit).
// Clients pace what they send to it instead of having lines refused.
inline constexpr std::string_view kRateLimitHeader = "chat-rate-limit";
inline constexpr std::string_view kRateBurstHeader = "chat-rate-burst";

// `user` on messages the server itself sends (notices, errors, command
// replies). Never a valid name, so nobody can pose as the server.
inline constexpr std::string_view kServerUser = "*";

}  // namespace chat
