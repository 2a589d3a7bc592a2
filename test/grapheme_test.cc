#include "client/grapheme.h"

#include <gtest/gtest.h>

#include <string>

#include "client/utf8_locale.h"

namespace chat {
namespace {

class GraphemeTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { ASSERT_TRUE(UseUtf8Locale()); }
};

TEST_F(GraphemeTest, AsciiAndCjkAreOneCodePointPerCharacter) {
  EXPECT_EQ(CodePointsInClusterBefore("ab", 2), 1u);
  const std::string text = "日本";
  EXPECT_EQ(CodePointsInClusterBefore(text, text.size()), 1u);
  EXPECT_EQ(CodePointsInClusterAfter(text, 0), 1u);
}

TEST_F(GraphemeTest, ACombiningAccentBelongsToItsLetter) {
  const std::string text = "xe\u0301";  // x, e + COMBINING ACUTE ACCENT
  EXPECT_EQ(CodePointsInClusterBefore(text, text.size()), 2u);
  EXPECT_EQ(CodePointsInClusterAfter(text, 1), 2u);
  EXPECT_EQ(CodePointsInClusterBefore(text, 1), 1u);
}

TEST_F(GraphemeTest, AFlagIsTwoRegionalIndicatorsAndFlagsPairUp) {
  const std::string two_flags = "🇯🇵🇫🇷";
  const std::size_t half = std::string("🇯🇵").size();
  EXPECT_EQ(CodePointsInClusterBefore(two_flags, two_flags.size()), 2u);
  EXPECT_EQ(CodePointsInClusterBefore(two_flags, half), 2u);
  EXPECT_EQ(CodePointsInClusterAfter(two_flags, half), 2u);
}

TEST_F(GraphemeTest, SkinTonesAndZwjSequencesAreOneCharacter) {
  const std::string thumbs = "👍🏽";
  EXPECT_EQ(CodePointsInClusterBefore(thumbs, thumbs.size()), 2u);
  const std::string family = "a👨‍👩‍👧";  // man ZWJ woman ZWJ girl
  EXPECT_EQ(CodePointsInClusterBefore(family, family.size()), 5u);
  EXPECT_EQ(CodePointsInClusterAfter(family, 1), 5u);
  const std::string heart = "❤️";  // with VARIATION SELECTOR-16
  EXPECT_EQ(CodePointsInClusterBefore(heart, heart.size()), 2u);
}

TEST_F(GraphemeTest, NothingBeforeTheStartOrAfterTheEnd) {
  EXPECT_EQ(CodePointsInClusterBefore("abc", 0), 0u);
  EXPECT_EQ(CodePointsInClusterAfter("abc", 3), 0u);
  EXPECT_EQ(CodePointsInClusterAfter("", 0), 0u);
}

}  // namespace
}  // namespace chat
