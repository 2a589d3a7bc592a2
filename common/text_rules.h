#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

// The rules every name, room and line of chat text must follow. Pure
// functions, shared by server (which enforces them) and client (which checks
// its options before connecting). See docs/protocol.md, "Rules".
namespace chat {

inline constexpr std::size_t kMaxNameLength = 32;
inline constexpr std::size_t kMaxRoomLength = 32;
inline constexpr std::size_t kMaxClientMsgIdLength = 64;
inline constexpr std::string_view kDefaultRoom = "lobby";

// nullopt when `name` is a valid user name, else a sentence saying why not.
// Names: 1-32 characters of A-Z a-z 0-9 _ - . starting with a letter or digit.
std::optional<std::string> CheckName(std::string_view name);

// A room as written by a user ("#Dev", "dev") in its canonical form ("dev"):
// the leading '#' is dropped and letters are lowered. Rooms follow the name
// rules after that. On error, `error` says why and the result is empty.
std::string NormalizeRoom(std::string_view room, std::string* error);

// The key that makes names unique regardless of case ("Alice" == "alice").
std::string NameKey(std::string_view name);

// nullopt when `text` may be relayed: at most max_bytes bytes of valid UTF-8
// without control characters (C0, DEL, C1; newlines and tabs included).
std::optional<std::string> CheckChatText(std::string_view text, std::size_t max_bytes);

}  // namespace chat
