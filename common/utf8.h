#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

namespace chat {

// One decoded code point and how many bytes it took.
struct CodePoint {
  char32_t value;
  std::size_t length;
};

// Decodes the UTF-8 sequence at the start of `text`. Returns nullopt for
// anything that is not well-formed UTF-8 (overlong forms, surrogates, values
// above U+10FFFF, truncated sequences), as RFC 3629 requires.
std::optional<CodePoint> DecodeUtf8(std::string_view text);

// Byte offset of the first invalid sequence, or nullopt when `text` is valid.
std::optional<std::size_t> FindInvalidUtf8(std::string_view text);

// C0 controls, DEL and C1 controls: what a terminal may interpret as commands.
bool IsControlCodePoint(char32_t c);

}  // namespace chat
