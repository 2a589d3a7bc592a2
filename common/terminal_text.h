#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace chat {

// Makes text from the network safe to write to a terminal: control
// characters (ESC, CR, BEL, C1 ...) become visible caret or <U+XXXX> forms,
// bidirectional overrides (which can make text display in another order than
// it reads) become <U+XXXX>, and invalid UTF-8 bytes become U+FFFD. Printable
// text, including any script and emoji, passes unchanged.
//
// This is the rule of the plain pipe format shared with the Go and Python
// clients (interop/testdata/plain_format.json): do not change what it prints.
std::string SanitizeForTerminal(std::string_view text);

// Text someone sent (a name, a room), as the server quotes it back in a
// status, an ERROR or a log line: SanitizeForTerminal, then at most
// `max_chars` code points, with "…" and the size sent when it was longer,
// so a 7 KiB "name" is not echoed (or logged) whole.
inline constexpr std::size_t kMaxQuotedChars = 40;
std::string QuoteSent(std::string_view text, std::size_t max_chars = kMaxQuotedChars);

// The stricter rule for the interactive display (FormatDisplayLine): all of
// SanitizeForTerminal, and also characters that are invisible or that could
// hide or disguise text become <U+XXXX>:
//  - always: zero-width space U+200B, word joiner and invisible operators
//    U+2060..U+2064, U+2065, deprecated format controls U+206A..U+206F,
//    Mongolian vowel separator U+180E, BOM/ZWNBSP U+FEFF, line and paragraph
//    separators U+2028/U+2029, soft hyphen U+00AD, combining grapheme joiner
//    U+034F, Hangul fillers U+115F, U+1160, U+3164, U+FFA0, Khmer inherent
//    vowels U+17B4/U+17B5, interlinear annotation U+FFF9..U+FFFB and the
//    unassigned U+FFF0..U+FFF8, shorthand format controls U+1BCA0..U+1BCA3,
//    musical format controls U+1D173..U+1D17A, and all of U+E0000..U+E0FFF
//    not kept below (tags, unassigned default-ignorables);
//  - ZWJ U+200D is kept between two pictographic (emoji) code points, the
//    first possibly followed by VS16 or carrying a skin tone ("👨‍👩‍👧",
//    "🏳️‍🌈"); ZWJ and ZWNJ U+200C are kept between two characters of a
//    script that uses them (Arabic, Syriac, N'Ko, the Indic scripts U+0900..
//    U+0DFF, Myanmar, Khmer, Mongolian, Arabic presentation forms); anywhere
//    else (e.g. inside Latin or ASCII words) they are shown;
//  - one variation selector U+FE00..U+FE0F is kept right after a visible
//    non-ASCII character or after 0-9 # * (keycaps: "1️⃣"), so "❤️" stays;
//    one ideographic variation selector U+E0100..U+E01EF right after a CJK
//    ideograph; one Mongolian free variation selector right after a
//    Mongolian letter; any other (a second in a row, after ASCII letters,
//    spaces or at the start) is shown;
//  - tag characters are kept only in an emoji tag sequence: U+1F3F4, then 3
//    to 6 tags for lowercase letters or digits, then CANCEL TAG U+E007F (the
//    flags of England, Scotland, Wales);
//  - combining marks (glibc's "combining" class of the C.UTF-8 locale:
//    Unicode categories Mn, Mc, Me; a fixed list of the combining blocks if
//    that locale is missing): up to 4 in a row on one base character pass,
//    the rest of the run becomes one "<+N marks>".
// Everything else (any script, precomposed and decomposed accents, emoji
// with ZWJ sequences, skin tones, flags) passes byte for byte.
std::string SanitizeForDisplay(std::string_view text);

// Most combining marks kept in a row on one base character by
// SanitizeForDisplay.
inline constexpr int kMaxCombiningMarks = 4;

}  // namespace chat
