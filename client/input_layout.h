#pragma once

#include <string_view>

namespace chat {

// Where the line editor's prompt and input sit on the terminal, computed the
// way libedit draws them (refresh.c: re_putc): each code point takes the
// width the C library's wcwidth() gives it (0 for combining marks, 2 for
// CJK and emoji); a character that does not fit at the end of a row moves
// to the next one; a row that fills up puts the cursor at the start of the
// next. Characters libedit cannot print are drawn as ^X or \U+XXXX.
// Needs a UTF-8 LC_CTYPE (see UseUtf8Locale). Pure: unit-tested.

// Columns one code point takes on the screen as libedit draws it.
int DrawnWidth(char32_t c);

// Columns `text` (UTF-8) takes on one unbounded row.
int DrawnWidth(std::string_view text);

struct InputPosition {
  int row = 0;     // 0: the prompt's first row
  int column = 0;  // 0-based
};

// Where drawing `prompt` then `text` leaves the cursor on a terminal of
// `columns` columns (columns < 1 counts as 1).
InputPosition PositionAfter(std::string_view prompt, std::string_view text, int columns);

}  // namespace chat
