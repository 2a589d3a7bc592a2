#include "common/text_rules.h"

#include <cctype>
#include <cstdio>

#include "common/utf8.h"

namespace chat {
namespace {

bool IsNameChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.';
}

std::optional<std::string> CheckIdentifier(std::string_view what, std::string_view value,
                                           std::size_t max_length) {
  if (value.empty()) return std::string(what) + " is empty";
  if (value.size() > max_length) {
    return std::string(what) + " is " + std::to_string(value.size()) +
           " characters long; at most " + std::to_string(max_length) + " are allowed";
  }
  // The character set first: "日本" should hear that names are ASCII, not
  // that it does not start with a letter.
  for (char c : value) {
    if (!IsNameChar(c)) {
      return std::string(what) + " may only contain letters, digits, '_', '-' and '.' (ASCII)";
    }
  }
  if (!std::isalnum(static_cast<unsigned char>(value.front()))) {
    return std::string(what) + " must start with a letter or digit";
  }
  return std::nullopt;
}

std::string Lowered(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

std::optional<std::string> CheckName(std::string_view name) {
  return CheckIdentifier("name", name, kMaxNameLength);
}

std::string NormalizeRoom(std::string_view room, std::string* error) {
  if (!room.empty() && room.front() == '#') room.remove_prefix(1);
  if (auto problem = CheckIdentifier("room name", room, kMaxRoomLength)) {
    *error = *problem;
    return {};
  }
  return Lowered(room);
}

std::string NameKey(std::string_view name) { return Lowered(name); }

std::optional<std::string> CheckChatText(std::string_view text, std::size_t max_bytes) {
  if (text.size() > max_bytes) {
    return "message is " + std::to_string(text.size()) + " bytes; the limit is " +
           std::to_string(max_bytes);
  }
  std::size_t offset = 0;
  while (offset < text.size()) {
    const auto cp = DecodeUtf8(text.substr(offset));
    if (!cp) return "message is not valid UTF-8 (at byte " + std::to_string(offset) + ")";
    if (IsControlCodePoint(cp->value)) {
      char code[16];
      std::snprintf(code, sizeof code, "U+%04X", static_cast<unsigned>(cp->value));
      return std::string("message contains the control character ") + code + " at byte " +
             std::to_string(offset) + "; chat text is one line of printable text";
    }
    offset += cp->length;
  }
  return std::nullopt;
}

}  // namespace chat
