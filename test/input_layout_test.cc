#include "client/input_layout.h"

#include <gtest/gtest.h>

#include "client/utf8_locale.h"

namespace chat {
namespace {

class InputLayoutTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { ASSERT_TRUE(UseUtf8Locale()); }
};

TEST_F(InputLayoutTest, WidthsFollowTheCLibrary) {
  EXPECT_EQ(DrawnWidth("abc"), 3);
  EXPECT_EQ(DrawnWidth("café"), 4);
  EXPECT_EQ(DrawnWidth("cafe\u0301"), 4);  // a combining accent takes no column
  EXPECT_EQ(DrawnWidth("日本語"), 6);
  EXPECT_EQ(DrawnWidth("😀"), 2);
  EXPECT_EQ(DrawnWidth("한국어"), 6);
  EXPECT_EQ(DrawnWidth("\x01"), 2);  // drawn as ^A
}

TEST_F(InputLayoutTest, CursorStaysOnTheFirstRowWhileTheLineFits) {
  const InputPosition at = PositionAfter("> ", "hello", 20);
  EXPECT_EQ(at.row, 0);
  EXPECT_EQ(at.column, 7);
}

TEST_F(InputLayoutTest, ALineThatFillsARowPutsTheCursorOnTheNext) {
  const InputPosition at = PositionAfter("> ", "12345678", 10);
  EXPECT_EQ(at.row, 1);
  EXPECT_EQ(at.column, 0);
}

TEST_F(InputLayoutTest, LongLinesWrapOverSeveralRows) {
  const InputPosition at = PositionAfter("[#lobby] tina> ", std::string(100, 'x'), 40);
  // 15 + 100 = 115 columns: rows of 40, 40, 35.
  EXPECT_EQ(at.row, 2);
  EXPECT_EQ(at.column, 35);
}

TEST_F(InputLayoutTest, AWideCharacterThatDoesNotFitMovesWholeToTheNextRow) {
  // "> " + "abcdefg" = 9 columns of 10: "日" (2) cannot start in column 9.
  const InputPosition at = PositionAfter("> ", "abcdefg日", 10);
  EXPECT_EQ(at.row, 1);
  EXPECT_EQ(at.column, 2);
}

TEST_F(InputLayoutTest, DoubleWidthTextCountsTwoColumnsPerCharacter) {
  const InputPosition at = PositionAfter("> ", "日本語😀", 80);
  EXPECT_EQ(at.column, 2 + 8);
}

TEST_F(InputLayoutTest, TheSameTextOnANarrowerTerminalTakesMoreRows) {
  const std::string text = "a half typed line that is long and wraps past the edge";
  EXPECT_EQ(PositionAfter("> ", text, 80).row, 0);
  EXPECT_EQ(PositionAfter("> ", text, 30).row, 1);
  EXPECT_EQ(PositionAfter("> ", text, 20).row, 2);
}

TEST_F(InputLayoutTest, ZeroOrNegativeColumnsCountAsOne) {
  EXPECT_EQ(PositionAfter("", "ab", 0).row, 2);
}

}  // namespace
}  // namespace chat
