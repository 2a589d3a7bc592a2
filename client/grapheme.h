#pragma once

#include <cstddef>
#include <string_view>

namespace chat {

// User-perceived characters (grapheme clusters, simplified from UAX #29) in
// UTF-8 text, so that one key press moves over, or deletes, all of "é" typed
// as e + U+0301, a flag (two regional indicators), "👍🏽" (emoji + skin tone)
// or a ZWJ family. A cluster is a code point followed by any number of
// zero-width ones (combining marks, ZWJ, variation selectors, tags: what the
// C library's wcwidth() says take no column), emoji modifiers, and after a
// ZWJ the code point it joins; regional indicators pair up. Needs a UTF-8
// LC_CTYPE. Pure: unit-tested.

// Code points in the cluster that ends at byte `offset` (0 at the start).
std::size_t CodePointsInClusterBefore(std::string_view text, std::size_t offset);

// Code points in the cluster that starts at byte `offset` (0 at the end).
std::size_t CodePointsInClusterAfter(std::string_view text, std::size_t offset);

}  // namespace chat
