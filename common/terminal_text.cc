#include "common/terminal_text.h"

#include <cstdio>

#include "common/utf8.h"

namespace chat {
namespace {

bool IsBidiControl(char32_t c) {
  return (c >= 0x202A && c <= 0x202E) || (c >= 0x2066 && c <= 0x2069) || c == 0x200E ||
         c == 0x200F || c == 0x061C;
}

void AppendCodePointName(std::string& out, char32_t c) {
  char name[16];
  std::snprintf(name, sizeof name, "<U+%04X>", static_cast<unsigned>(c));
  out += name;
}

}  // namespace

std::string SanitizeForTerminal(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  std::size_t offset = 0;
  while (offset < text.size()) {
    const auto cp = DecodeUtf8(text.substr(offset));
    if (!cp) {
      out += "\xEF\xBF\xBD";  // U+FFFD REPLACEMENT CHARACTER
      ++offset;
      continue;
    }
    const char32_t c = cp->value;
    if (c < 0x20) {
      out += '^';
      out += static_cast<char>(c + 0x40);  // ESC -> ^[, BEL -> ^G
    } else if (c == 0x7F) {
      out += "^?";
    } else if (IsControlCodePoint(c) || IsBidiControl(c)) {
      AppendCodePointName(out, c);
    } else {
      out.append(text.substr(offset, cp->length));
    }
    offset += cp->length;
  }
  return out;
}

}  // namespace chat
