#pragma once

#include <string>
#include <string_view>

#include "chat.pb.h"

// How received messages are shown: pure functions, unit-tested. Every string
// from the network goes through SanitizeForTerminal on its way out.
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
};

// The line shown in an interactive terminal (irssi-like):
//   "22:31 #lobby <alice> hello"   "22:31 -!- bob joined #lobby"
std::string FormatDisplayLine(const ChatMessage& message, const DisplayStyle& style);

// True when `text` mentions `name` as a whole word, ignoring case.
bool MentionsName(std::string_view text, std::string_view name);

}  // namespace chat
