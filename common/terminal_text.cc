#include "common/terminal_text.h"

#include <locale.h>
#include <wctype.h>

#include <cstdio>
#include <vector>

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

void AppendControl(std::string& out, char32_t c) {
  if (c < 0x20) {
    out += '^';
    out += static_cast<char>(c + 0x40);  // ESC -> ^[, BEL -> ^G
  } else if (c == 0x7F) {
    out += "^?";
  } else {
    AppendCodePointName(out, c);
  }
}

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

// --- SanitizeForDisplay's character classes ---------------------------------

bool In(char32_t c, char32_t first, char32_t last) { return c >= first && c <= last; }

// Invisible characters that are shown whatever surrounds them.
bool IsAlwaysShown(char32_t c) {
  return c == 0x00AD || c == 0x034F || c == 0x115F || c == 0x1160 || c == 0x17B4 || c == 0x17B5 ||
         c == 0x180E || c == 0x200B || c == 0x2028 || c == 0x2029 || In(c, 0x2060, 0x2065) ||
         In(c, 0x206A, 0x206F) || c == 0x3164 || c == 0xFEFF || c == 0xFFA0 ||
         In(c, 0xFFF0, 0xFFFB) || In(c, 0x1BCA0, 0x1BCA3) || In(c, 0x1D173, 0x1D17A) ||
         In(c, 0xE0000, 0xE0FFF);
}

bool IsTag(char32_t c) { return In(c, 0xE0000, 0xE007F); }
constexpr char32_t kBlackFlag = 0x1F3F4;
constexpr char32_t kCancelTag = 0xE007F;

bool IsZeroWidthJoiner(char32_t c) { return c == 0x200C || c == 0x200D; }
bool IsVariationSelector(char32_t c) { return In(c, 0xFE00, 0xFE0F); }
bool IsIdeographicVariationSelector(char32_t c) { return In(c, 0xE0100, 0xE01EF); }
bool IsMongolianVariationSelector(char32_t c) { return In(c, 0x180B, 0x180D) || c == 0x180F; }

// Code points that emoji ZWJ sequences are made of (Extended_Pictographic,
// roughly, plus the skin tone modifiers; not the regional indicators).
bool IsPictographic(char32_t c) {
  return c == 0x00A9 || c == 0x00AE || c == 0x203C || c == 0x2049 || c == 0x2122 || c == 0x2139 ||
         In(c, 0x2194, 0x21AA) || In(c, 0x2300, 0x23FF) || c == 0x24C2 || In(c, 0x25A0, 0x25FF) ||
         In(c, 0x2600, 0x27BF) || In(c, 0x2934, 0x2935) || In(c, 0x2B00, 0x2BFF) || c == 0x3030 ||
         c == 0x303D || c == 0x3297 || c == 0x3299 ||
         (In(c, 0x1F000, 0x1FAFF) && !In(c, 0x1F1E6, 0x1F1FF)) || In(c, 0x1FC00, 0x1FFFD);
}

// Scripts in which ZWJ and ZWNJ are part of correct spelling.
bool IsJoiningScript(char32_t c) {
  return In(c, 0x0600, 0x06FF) || In(c, 0x0700, 0x074F) || In(c, 0x0750, 0x077F) ||
         In(c, 0x07C0, 0x07FF) || In(c, 0x0860, 0x08FF) || In(c, 0x0900, 0x0DFF) ||
         In(c, 0x1000, 0x109F) || In(c, 0x1780, 0x17FF) || In(c, 0x1800, 0x18AF) ||
         In(c, 0xA8E0, 0xA8FF) || In(c, 0xFB50, 0xFDFF) || In(c, 0xFE70, 0xFEFC);
}

bool IsCjkIdeograph(char32_t c) {
  return In(c, 0x3400, 0x4DBF) || In(c, 0x4E00, 0x9FFF) || In(c, 0xF900, 0xFAFF) ||
         In(c, 0x20000, 0x3FFFF);
}

bool IsKeycapBase(char32_t c) { return (c >= '0' && c <= '9') || c == '#' || c == '*'; }

bool IsNonAsciiSpace(char32_t c) {
  return c == 0xA0 || c == 0x1680 || In(c, 0x2000, 0x200A) || c == 0x202F || c == 0x205F ||
         c == 0x3000;
}

// The blocks of combining marks, for when the C.UTF-8 locale is missing.
bool IsInCombiningBlock(char32_t c) {
  return In(c, 0x0300, 0x036F) || In(c, 0x0483, 0x0489) || In(c, 0x0591, 0x05BD) ||
         In(c, 0x0610, 0x061A) || In(c, 0x064B, 0x065F) || In(c, 0x1AB0, 0x1AFF) ||
         In(c, 0x1DC0, 0x1DFF) || In(c, 0x20D0, 0x20FF) || In(c, 0x3099, 0x309A) ||
         In(c, 0xFE00, 0xFE0F) || In(c, 0xFE20, 0xFE2F) || In(c, 0xE0100, 0xE01EF);
}

// glibc's "combining" class: general categories Mn, Mc and Me. Read through
// a locale object of its own so that it does not depend on setlocale.
bool IsCombiningMark(char32_t c) {
  if (c < 0x0300) return false;
  struct Classifier {
    locale_t locale = newlocale(LC_CTYPE_MASK, "C.UTF-8", static_cast<locale_t>(nullptr));
    wctype_t combining = locale ? wctype_l("combining", locale) : 0;
  };
  static const Classifier classifier;  // never freed: used until exit
  if (classifier.combining == 0) return IsInCombiningBlock(c);
  return iswctype_l(static_cast<wint_t>(c), classifier.combining, classifier.locale) != 0;
}

// What a variation selector may follow: a visible character that is not a
// mark (and so not another selector), not ASCII but for keycap bases.
bool TakesVariationSelector(char32_t c) {
  if (c == 0 || IsCombiningMark(c)) return false;
  return c > 0x7F ? !IsNonAsciiSpace(c) : IsKeycapBase(c);
}

struct Unit {
  char32_t value = 0;
  std::size_t offset = 0;
  std::size_t length = 1;
  bool valid = false;
};

std::vector<Unit> Decode(std::string_view text) {
  std::vector<Unit> units;
  std::size_t offset = 0;
  while (offset < text.size()) {
    const auto cp = DecodeUtf8(text.substr(offset));
    if (cp) {
      units.push_back({cp->value, offset, cp->length, true});
      offset += cp->length;
    } else {
      units.push_back({0, offset, 1, false});
      ++offset;
    }
  }
  return units;
}

// How many units from `at` (the one after U+1F3F4) form the tag part of an
// emoji tag sequence (the tags and the CANCEL TAG), or 0.
std::size_t TagSequenceLength(const std::vector<Unit>& units, std::size_t at) {
  std::size_t tags = 0;
  while (at + tags < units.size() && units[at + tags].valid &&
         (In(units[at + tags].value, 0xE0030, 0xE0039) ||
          In(units[at + tags].value, 0xE0061, 0xE007A))) {
    ++tags;
  }
  const bool cancelled =
      at + tags < units.size() && units[at + tags].valid && units[at + tags].value == kCancelTag;
  return cancelled && tags >= 3 && tags <= 6 ? tags + 1 : 0;
}

}  // namespace

std::string SanitizeForTerminal(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  std::size_t offset = 0;
  while (offset < text.size()) {
    const auto cp = DecodeUtf8(text.substr(offset));
    if (!cp) {
      out += kReplacement;
      ++offset;
      continue;
    }
    const char32_t c = cp->value;
    if (IsControlCodePoint(c) || IsBidiControl(c)) {
      AppendControl(out, c);
    } else {
      out.append(text.substr(offset, cp->length));
    }
    offset += cp->length;
  }
  return out;
}

std::string QuoteSent(std::string_view text, std::size_t max_chars) {
  std::string quoted = SanitizeForTerminal(text);
  // The sanitised text is valid UTF-8: count code points by their lead bytes.
  std::size_t chars = 0;
  for (std::size_t i = 0; i < quoted.size(); ++i) {
    if ((static_cast<unsigned char>(quoted[i]) & 0xC0) == 0x80) continue;
    if (chars++ == max_chars) {
      quoted.resize(i);
      return quoted + "… (" + std::to_string(text.size()) + " bytes)";
    }
  }
  return quoted;
}

std::string SanitizeForDisplay(std::string_view text) {
  const std::vector<Unit> units = Decode(text);
  std::string out;
  out.reserve(text.size());
  int marks = 0;         // combining marks kept on the current base
  int hidden_marks = 0;  // and those beyond kMaxCombiningMarks
  std::size_t tags_kept_until = 0;
  const auto end_mark_run = [&] {
    if (hidden_marks > 0) {
      out += "<+" + std::to_string(hidden_marks) + (hidden_marks == 1 ? " mark>" : " marks>");
    }
    marks = 0;
    hidden_marks = 0;
  };
  // The code point before the current one, when it was kept (0 otherwise).
  char32_t previous = 0;
  char32_t before_previous = 0;

  for (std::size_t i = 0; i < units.size(); ++i) {
    const Unit& unit = units[i];
    const char32_t c = unit.value;
    const char32_t next = i + 1 < units.size() && units[i + 1].valid ? units[i + 1].value : 0;
    bool keep;
    if (!unit.valid || IsControlCodePoint(c) || IsBidiControl(c)) {
      keep = false;
    } else if (IsTag(c)) {
      keep = i < tags_kept_until;
    } else if (IsZeroWidthJoiner(c)) {
      const bool after_emoji =
          IsPictographic(previous) || (previous == 0xFE0F && IsPictographic(before_previous));
      keep = (c == 0x200D && after_emoji && IsPictographic(next)) ||
             (IsJoiningScript(previous) && IsJoiningScript(next));
    } else if (IsVariationSelector(c)) {
      keep = TakesVariationSelector(previous);
    } else if (IsIdeographicVariationSelector(c)) {
      keep = IsCjkIdeograph(previous);
    } else if (IsMongolianVariationSelector(c)) {
      keep = In(previous, 0x1820, 0x18AF);
    } else {
      keep = !IsAlwaysShown(c);
    }

    if (keep && IsCombiningMark(c)) {
      if (++marks > kMaxCombiningMarks) {
        ++hidden_marks;
        previous = 0;  // nothing may attach to a mark that is not shown
        continue;
      }
    } else {
      end_mark_run();
    }
    if (!unit.valid) {
      out += kReplacement;
    } else if (!keep) {
      AppendControl(out, c);
    } else {
      out.append(text.substr(unit.offset, unit.length));
      if (c == kBlackFlag) tags_kept_until = i + 1 + TagSequenceLength(units, i + 1);
    }
    before_previous = keep ? previous : 0;
    previous = keep ? c : 0;
  }
  end_mark_run();
  return out;
}

}  // namespace chat
