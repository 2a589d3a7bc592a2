#include "client/input_layout.h"

#include <wchar.h>
#include <wctype.h>

#include "common/utf8.h"

namespace chat {

int DrawnWidth(char32_t c) {
  const auto wide = static_cast<wchar_t>(c);
  if (c == '\t') return 1;
  if (c == '\n') return 0;
  if (c < 0x100 && iswcntrl(wide)) return 2;  // ^X
  if (iswprint(wide)) {
    const int width = wcwidth(wide);
    return width < 0 ? 0 : width;
  }
  return c > 0xFFFF ? 8 : 7;  // \U+XXXXX, \U+XXXX
}

int DrawnWidth(std::string_view text) {
  int width = 0;
  for (std::size_t at = 0; at < text.size();) {
    const auto cp = DecodeUtf8(text.substr(at));
    width += cp ? DrawnWidth(cp->value) : 1;
    at += cp ? cp->length : 1;
  }
  return width;
}

namespace {

// libedit draws ^X and \U+XXXX one column at a time, so they may break
// across rows; a printable character moves whole to the next row.
void Advance(InputPosition& at, char32_t c, int columns) {
  const int width = DrawnWidth(c);
  const auto wide = static_cast<wchar_t>(c);
  const bool drawn_in_pieces = c != '\t' && c != '\n' && !iswprint(wide);
  for (int step = 0; step < (drawn_in_pieces ? width : 1); ++step) {
    const int w = drawn_in_pieces ? 1 : width;
    if (at.column + w > columns) {
      ++at.row;
      at.column = 0;
    }
    at.column += w;
    if (at.column >= columns) {
      ++at.row;
      at.column = 0;
    }
  }
}

void AdvanceText(InputPosition& at, std::string_view text, int columns) {
  for (std::size_t offset = 0; offset < text.size();) {
    const auto cp = DecodeUtf8(text.substr(offset));
    Advance(at, cp ? cp->value : U'?', columns);
    offset += cp ? cp->length : 1;
  }
}

}  // namespace

InputPosition PositionAfter(std::string_view prompt, std::string_view text, int columns) {
  if (columns < 1) columns = 1;
  InputPosition at;
  AdvanceText(at, prompt, columns);
  AdvanceText(at, text, columns);
  return at;
}

}  // namespace chat
