#include "client/grapheme.h"

#include <wchar.h>
#include <wctype.h>

#include <vector>

#include "common/utf8.h"

namespace chat {
namespace {

constexpr char32_t kZeroWidthJoiner = 0x200D;

bool IsRegionalIndicator(char32_t c) { return c >= 0x1F1E6 && c <= 0x1F1FF; }
bool IsEmojiModifier(char32_t c) { return c >= 0x1F3FB && c <= 0x1F3FF; }

// Joins the cluster before it.
bool Extends(char32_t c) {
  const auto wide = static_cast<wchar_t>(c);
  return IsEmojiModifier(c) || (c >= 0x300 && iswprint(wide) && wcwidth(wide) == 0);
}

struct Piece {
  std::size_t offset;  // byte offset of the code point
  char32_t value;
};

std::vector<Piece> CodePoints(std::string_view text) {
  std::vector<Piece> out;
  for (std::size_t at = 0; at < text.size();) {
    const auto cp = DecodeUtf8(text.substr(at));
    out.push_back({at, cp ? cp->value : U'\uFFFD'});
    at += cp ? cp->length : 1;
  }
  return out;
}

// Byte offsets where clusters start, and text.size() at the end.
std::vector<std::size_t> ClusterStarts(std::string_view text) {
  const std::vector<Piece> pieces = CodePoints(text);
  std::vector<std::size_t> starts;
  int indicators = 0;  // regional indicators in the current cluster
  for (std::size_t i = 0; i < pieces.size(); ++i) {
    const char32_t c = pieces[i].value;
    bool joins = false;
    if (i > 0) {
      const char32_t before = pieces[i - 1].value;
      joins = Extends(c) || before == kZeroWidthJoiner ||
              (IsRegionalIndicator(c) && IsRegionalIndicator(before) && indicators == 1);
    }
    if (!joins) {
      starts.push_back(pieces[i].offset);
      indicators = 0;
    }
    if (IsRegionalIndicator(c)) ++indicators;
  }
  starts.push_back(text.size());
  return starts;
}

std::size_t CodePointsBetween(std::string_view text, std::size_t from, std::size_t to) {
  return CodePoints(text.substr(from, to - from)).size();
}

}  // namespace

std::size_t CodePointsInClusterBefore(std::string_view text, std::size_t offset) {
  if (offset == 0 || offset > text.size()) return 0;
  const std::vector<std::size_t> starts = ClusterStarts(text);
  for (std::size_t i = starts.size(); i-- > 0;) {
    if (starts[i] < offset) return CodePointsBetween(text, starts[i], offset);
  }
  return 0;
}

std::size_t CodePointsInClusterAfter(std::string_view text, std::size_t offset) {
  if (offset >= text.size()) return 0;
  for (const std::size_t start : ClusterStarts(text)) {
    if (start > offset) return CodePointsBetween(text, offset, start);
  }
  return 0;
}

}  // namespace chat
