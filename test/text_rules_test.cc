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

}  // namespace
}  // namespace chat
