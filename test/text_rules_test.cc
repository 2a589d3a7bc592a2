#include "common/text_rules.h"

#include <gtest/gtest.h>

#include "common/terminal_text.h"
#include "common/utf8.h"

namespace chat {
namespace {

TEST(Utf8, AcceptsMultilingualTextAndEmoji) {
  EXPECT_FALSE(FindInvalidUtf8("hello, こんにちは, 🎉"));
}

TEST(Utf8, RejectsMalformedSequences) {
  EXPECT_EQ(FindInvalidUtf8("ab\xff"), 2u);            // never valid
  EXPECT_EQ(FindInvalidUtf8("\xc0\xaf"), 0u);          // overlong '/'
  EXPECT_EQ(FindInvalidUtf8("\xed\xa0\x80"), 0u);      // surrogate
  EXPECT_EQ(FindInvalidUtf8("x\xe3\x81"), 1u);         // truncated
  EXPECT_EQ(FindInvalidUtf8("\xf4\x90\x80\x80"), 0u);  // above U+10FFFF
}

TEST(CheckName, AcceptsDocumentedCharacters) {
  EXPECT_FALSE(CheckName("alice"));
  EXPECT_FALSE(CheckName("Bob_2.x-y"));
  EXPECT_FALSE(CheckName(std::string(kMaxNameLength, 'a')));
}

TEST(CheckName, RejectsEmptyLongAndOddNames) {
  EXPECT_TRUE(CheckName(""));
  EXPECT_TRUE(CheckName(std::string(kMaxNameLength + 1, 'a')));
  EXPECT_TRUE(CheckName("_alice"));
  EXPECT_TRUE(CheckName("al ice"));
  EXPECT_TRUE(CheckName("*"));
  EXPECT_TRUE(CheckName("ali\x1b[31m"));
  EXPECT_TRUE(CheckName("名前"));
}

TEST(NormalizeRoom, DropsHashAndLowercases) {
  std::string error;
  EXPECT_EQ(NormalizeRoom("#Dev", &error), "dev");
  EXPECT_EQ(NormalizeRoom("lobby", &error), "lobby");
  EXPECT_EQ(NormalizeRoom("#", &error), "");
  EXPECT_NE(error, "");
  EXPECT_EQ(NormalizeRoom("a b", &error), "");
}

TEST(CheckChatText, EnforcesSizeUtf8AndNoControls) {
  EXPECT_FALSE(CheckChatText("hello 🌍", 100));
  EXPECT_FALSE(CheckChatText(std::string(100, 'x'), 100));
  EXPECT_EQ(*CheckChatText(std::string(101, 'x'), 100), "message is 101 bytes; the limit is 100");
  EXPECT_NE(CheckChatText("bad\xff", 100)->find("not valid UTF-8"), std::string::npos);
  EXPECT_NE(CheckChatText("red \x1b[31m", 100)->find("U+001B"), std::string::npos);
  EXPECT_TRUE(CheckChatText("two\nlines", 100));
  EXPECT_TRUE(CheckChatText("c1 \xc2\x9b", 100));
}

TEST(SanitizeForTerminal, KeepsPrintableText) {
  EXPECT_EQ(SanitizeForTerminal("héllo 世界 👋"), "héllo 世界 👋");
}

TEST(SanitizeForTerminal, NeutralisesEscapesControlsAndBidi) {
  EXPECT_EQ(SanitizeForTerminal("\x1b[2J\x07"), "^[[2J^G");
  EXPECT_EQ(SanitizeForTerminal("a\rb\nc\x7f"), "a^Mb^Jc^?");
  EXPECT_EQ(SanitizeForTerminal("\xc2\x9b"
                                "31m"),
            "<U+009B>31m");
  EXPECT_EQ(SanitizeForTerminal("x\xe2\x80\xaey"), "x<U+202E>y");
  EXPECT_EQ(SanitizeForTerminal("bad\xff"), "bad\xEF\xBF\xBD");
}

// --- SanitizeForDisplay: the interactive display's stricter rule -----------

TEST(SanitizeForDisplay, KeepsEveryScriptAccentAndEmojiByteForByte) {
  const std::string kept[] = {
      "こんにちは、世界 ｶﾀｶﾅ",           // Japanese, half-width katakana
      "你好，世界",                      // Chinese
      "안녕하세요",                      // Korean, precomposed
      "\u1112\u1161\u11ab",              // Korean, conjoining jamo (NFD 한)
      "café naïve",                      // precomposed accents
      "cafe\u0301",                      // decomposed: one combining mark
      "Vie\u0323\u0302t",                // Vietnamese ệ decomposed: two marks
      "か\u3099",                        // kana + combining dakuten
      "😀 👍🏿 🇯🇵🇫🇷",  // emoji, skin tone, flags
      "👨\u200d👩\u200d👧",                 // ZWJ family
      "👩🏽\u200d💻",              // ZWJ after a skin tone
      "🏳\ufe0f\u200d🌈",            // ZWJ after VS16
      "❤\ufe0f ❤\ufe0f\u200d🔥",          // VS16, and ZWJ after it
      "1\ufe0f\u20e3 #\ufe0f\u20e3",     // keycaps
      "🏴\U000E0067\U000E0062\U000E0073\U000E0063\U000E0074\U000E007F",  // Scotland
      "می\u200cخواهم",                                                     // Persian ZWNJ
      "क्\u200dष",                                                          // Devanagari ZWJ
      "葛\U000E0100",  // ideographic variation sequence
      "\u00a0non-breaking\u3000space",
  };
  for (const std::string& text : kept) EXPECT_EQ(SanitizeForDisplay(text), text) << text;
}

TEST(SanitizeForDisplay, ShowsZeroWidthCharactersAndBom) {
  EXPECT_EQ(SanitizeForDisplay("ad\u200bmin"), "ad<U+200B>min");
  EXPECT_EQ(SanitizeForDisplay("pay\u200cpal"), "pay<U+200C>pal");
  EXPECT_EQ(SanitizeForDisplay("pay\u200dpal"), "pay<U+200D>pal");
  EXPECT_EQ(SanitizeForDisplay("a\u2060b\u2061c\u2064d"), "a<U+2060>b<U+2061>c<U+2064>d");
  EXPECT_EQ(SanitizeForDisplay("\ufeffhi"), "<U+FEFF>hi");
  EXPECT_EQ(SanitizeForDisplay("x\u180ey"), "x<U+180E>y");
}

TEST(SanitizeForDisplay, ShowsLineAndParagraphSeparators) {
  EXPECT_EQ(SanitizeForDisplay("one\u2028two\u2029three"), "one<U+2028>two<U+2029>three");
}

TEST(SanitizeForDisplay, ShowsSoftHyphenGraphemeJoinerAndHangulFillers) {
  EXPECT_EQ(SanitizeForDisplay("ex\u00adample"), "ex<U+00AD>ample");
  EXPECT_EQ(SanitizeForDisplay("a\u034fb"), "a<U+034F>b");
  EXPECT_EQ(SanitizeForDisplay("\u3164\uffa0\u115f\u1160"), "<U+3164><U+FFA0><U+115F><U+1160>");
}

TEST(SanitizeForDisplay, KeepsZwjOnlyBetweenEmojiOrInJoiningScripts) {
  EXPECT_EQ(SanitizeForDisplay("😀\u200d"), "😀<U+200D>");
  EXPECT_EQ(SanitizeForDisplay("\u200d😀"), "<U+200D>😀");
  EXPECT_EQ(SanitizeForDisplay("a\u200d😀"), "a<U+200D>😀");
  EXPECT_EQ(SanitizeForDisplay("🇯\u200d🇵"), "🇯<U+200D>🇵");      // not between flags' letters
  EXPECT_EQ(SanitizeForDisplay("👨\u200c👩"), "👨<U+200C>👩");      // ZWNJ is not emoji glue
  EXPECT_EQ(SanitizeForDisplay("日\u200c本"), "日<U+200C>本");  // CJK uses no joiners
}

TEST(SanitizeForDisplay, KeepsOneVariationSelectorAfterAVisibleCharacter) {
  EXPECT_EQ(SanitizeForDisplay("a\ufe0f"), "a<U+FE0F>");
  EXPECT_EQ(SanitizeForDisplay("\ufe0fstart"), "<U+FE0F>start");
  EXPECT_EQ(SanitizeForDisplay(" \ufe0f"), " <U+FE0F>");
  EXPECT_EQ(SanitizeForDisplay("❤\ufe0f\ufe0e"), "❤\ufe0f<U+FE0E>");
  // Data hidden in selectors after an emoji ("emoji smuggling").
  EXPECT_EQ(SanitizeForDisplay("😀\U000E0100\U000E0101"), "😀<U+E0100><U+E0101>");
  EXPECT_EQ(SanitizeForDisplay("hi\U000E0100"), "hi<U+E0100>");
}

TEST(SanitizeForDisplay, ShowsTagCharactersOutsideEmojiTagSequences) {
  // Invisible ASCII in tags ("hi" + tags spelling "AB").
  EXPECT_EQ(SanitizeForDisplay("hi\U000E0041\U000E0042"), "hi<U+E0041><U+E0042>");
  // No CANCEL TAG: not a flag.
  EXPECT_EQ(SanitizeForDisplay("🏴\U000E0067\U000E0062\U000E0073"),
            "🏴<U+E0067><U+E0062><U+E0073>");
  // Too long to be a subdivision flag: a place to hide text.
  EXPECT_EQ(SanitizeForDisplay("🏴\U000E0061\U000E0061\U000E0061\U000E0061\U000E0061\U000E0061"
                               "\U000E0061\U000E007F"),
            "🏴<U+E0061><U+E0061><U+E0061><U+E0061><U+E0061><U+E0061><U+E0061><U+E007F>");
  // Tags after another emoji.
  EXPECT_EQ(SanitizeForDisplay("😀\U000E0067\U000E0062\U000E0073\U000E007F"),
            "😀<U+E0067><U+E0062><U+E0073><U+E007F>");
}

TEST(SanitizeForDisplay, CutsLongStacksOfCombiningMarksToOneMarker) {
  const std::string four = "e\u0301\u0302\u0303\u0304";
  EXPECT_EQ(SanitizeForDisplay(four), four);
  EXPECT_EQ(SanitizeForDisplay(four + "\u0305"), four + "<+1 mark>");
  EXPECT_EQ(SanitizeForDisplay("Z\u0300\u0301\u0302\u0303\u0304\u0305\u0306\u0307\u0308\u0309a"),
            "Z\u0300\u0301\u0302\u0303<+6 marks>a");
  // Each base character has its own count; kana and Cyrillic marks count too.
  EXPECT_EQ(SanitizeForDisplay("か\u3099\u0483\u0484\u0485\u0486\u0487き\u3099"),
            "か\u3099\u0483\u0484\u0485<+2 marks>き\u3099");
}

TEST(SanitizeForDisplay, KeepsTheTerminalRules) {
  EXPECT_EQ(SanitizeForDisplay("\x1b[2J\x07\r"), "^[[2J^G^M");
  EXPECT_EQ(SanitizeForDisplay("\xc2\x9b"
                               "31m"),
            "<U+009B>31m");
  EXPECT_EQ(SanitizeForDisplay("x\xe2\x80\xaey\u2066z"), "x<U+202E>y<U+2066>z");
  EXPECT_EQ(SanitizeForDisplay("bad\xff\u0301"), "bad\xEF\xBF\xBD\u0301");
}

TEST(SanitizeForTerminal, LeavesInvisibleCharactersToTheDisplayRule) {
  // The shared plain format (interop/testdata/plain_format.json) keeps them.
  EXPECT_EQ(SanitizeForTerminal("ad\u200bmin\u2029\ufeff"), "ad\u200bmin\u2029\ufeff");
  EXPECT_NE(SanitizeForDisplay("ad\u200bmin"), SanitizeForTerminal("ad\u200bmin"));
}

TEST(QuoteSentTest, ShortTextIsSanitisedOnly) {
  EXPECT_EQ(QuoteSent("alice"), "alice");
  EXPECT_EQ(QuoteSent("a\x1b[2Jb"), SanitizeForTerminal("a\x1b[2Jb"));
}

TEST(QuoteSentTest, LongTextIsCutAtACodePointWithItsSize) {
  EXPECT_EQ(QuoteSent(std::string(7168, 'x')), std::string(40, 'x') + "… (7168 bytes)");
  // Japanese and emoji: cut between code points, never inside one.
  std::string long_text;
  for (int i = 0; i < 30; ++i) long_text += "日本😀";
  EXPECT_EQ(QuoteSent(long_text, 5), "日本😀日本… (" + std::to_string(long_text.size()) + " bytes)");
  EXPECT_EQ(QuoteSent("日本😀", 3), "日本😀");
}

}  // namespace
}  // namespace chat
