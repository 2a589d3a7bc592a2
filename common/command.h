#pragma once

#include <string>
#include <string_view>
#include <vector>

// Parsing of the /commands typed as chat text. Pure, shared by server (which
// executes them) and client (which lists them in its /help).
namespace chat {

enum class CommandKind {
  kSay,      // plain text (or "//text", which says "/text")
  kJoin,     // /join ROOM
  kLeave,    // /leave
  kNick,     // /nick NAME
  kMe,       // /me ACTION
  kMsg,      // /msg NAME TEXT
  kWho,      // /who
  kRooms,    // /rooms [FROM]
  kHelp,     // /help
  kInvalid,  // a known command used wrongly, or an unknown one: see `error`
};

struct Command {
  CommandKind kind = CommandKind::kSay;
  std::string arg;    // the text, ROOM, NAME, ACTION or FROM (may be empty)
  std::string text;   // /msg only: the private text
  std::string error;  // kInvalid only: what is wrong and how to do it right
};

Command ParseCommand(std::string_view line);

// The server's commands as typed ("/join", "/leave", ...), for completion.
std::vector<std::string> CommandNames();

// One line per server command: "/join ROOM  switch to ROOM (created on first join)".
std::string_view ServerCommandHelp();

}  // namespace chat
