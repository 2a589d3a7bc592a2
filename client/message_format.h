#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "chat.pb.h"

// How received messages are shown: pure functions, unit-tested. Every string
// from the network goes through SanitizeForTerminal (pipe format) or
// SanitizeForDisplay (interactive display) on its way out.
namespace chat {

// lowercase name of a kind: chat, action, private, join, ... ("chat" for unset).
std::string_view KindName(Kind kind);

// The documented one-line format for pipes (docs/client.md):
//   TIME ROOM SEQ KIND SENDER TEXT
// e.g. "2026-11-24T22:32:37.970Z #lobby 12 chat alice hello world".
std::string FormatPlainLine(const ChatMessage& message);

struct DisplayStyle {
  bool color = true;
  std::string my_name;  // to mark own messages and mentions
  // Colours the terminal has (TerminalColors): 256 picks each sender's colour
  // from a palette of 61; anything less from 8 (the basic and bright ANSI
  // colours).
  int colors = 8;
};

// 256 when TERM contains "256color" or COLORTERM is "truecolor" or "24bit"
// (either may be null), else 8.
int TerminalColors(const char* term, const char* colorterm);

// The line shown in an interactive terminal (irssi-like):
//   "22:31:07 #lobby <alice> hello"   "22:31:07 -!- bob joined #lobby"
// The time is the server's, in local time; a message without one
// (time_unix_ms 0) shows `arrival_unix_ms`, its local time of arrival (0: now).
// Mentions (IsMention) are in reverse video, or without colour start with
// ">> ". Text goes through SanitizeForDisplay.
std::string FormatDisplayLine(const ChatMessage& message, const DisplayStyle& style,
                              std::int64_t arrival_unix_ms = 0);

// True when the line is someone else's CHAT or ACTION that mentions
// style.my_name (for an ACTION, "* NAME ACTION", the actor's own name in front
// does not count), or someone else's PRIVATE message to style.my_name. The
// caller rings the bell; replayed history (message.replay()) is not excluded.
bool IsMention(const ChatMessage& message, const DisplayStyle& style);

// True when `text` mentions `name` as a whole word, ignoring case.
bool MentionsName(std::string_view text, std::string_view name);

}  // namespace chat
