#include "common/command.h"

#include <gtest/gtest.h>

#include "common/terminal_text.h"

namespace chat {
namespace {

TEST(ParseCommand, PlainTextIsSaid) {
  const Command c = ParseCommand("hello there");
  EXPECT_EQ(c.kind, CommandKind::kSay);
  EXPECT_EQ(c.arg, "hello there");
}

TEST(ParseCommand, DoubleSlashSaysALiteralSlash) {
  const Command c = ParseCommand("//join is a command");
  EXPECT_EQ(c.kind, CommandKind::kSay);
  EXPECT_EQ(c.arg, "/join is a command");
}

TEST(ParseCommand, ParsesEachCommand) {
  EXPECT_EQ(ParseCommand("/join dev").kind, CommandKind::kJoin);
  EXPECT_EQ(ParseCommand("/join dev").arg, "dev");
  EXPECT_EQ(ParseCommand("/JOIN #dev").arg, "#dev");
  EXPECT_EQ(ParseCommand("/leave").kind, CommandKind::kLeave);
  EXPECT_EQ(ParseCommand("/nick bob").arg, "bob");
  EXPECT_EQ(ParseCommand("/me waves at  you").arg, "waves at  you");
  EXPECT_EQ(ParseCommand("/who").kind, CommandKind::kWho);
  EXPECT_EQ(ParseCommand("/rooms").kind, CommandKind::kRooms);
  EXPECT_EQ(ParseCommand("/rooms").arg, "");
  EXPECT_EQ(ParseCommand("/rooms #Dev").kind, CommandKind::kRooms);
  EXPECT_EQ(ParseCommand("/rooms #Dev").arg, "#Dev");
  EXPECT_EQ(ParseCommand("/help").kind, CommandKind::kHelp);
  const Command msg = ParseCommand("/msg bob  see you at 5 ");
  EXPECT_EQ(msg.kind, CommandKind::kMsg);
  EXPECT_EQ(msg.arg, "bob");
  EXPECT_EQ(msg.text, "see you at 5");
}

TEST(ParseCommand, WrongUseGivesUsage) {
  EXPECT_EQ(ParseCommand("/join").error, "usage: /join ROOM");
  EXPECT_EQ(ParseCommand("/msg bob").error, "usage: /msg NAME TEXT");
}

TEST(ParseCommand, AJoinOrNickWithSpacesSaysWhatIsWrongWithTheName) {
  EXPECT_EQ(ParseCommand("/join bad room!").error,
            "usage: /join ROOM ('bad room!' is not one: room name may only contain letters, "
            "digits, '_', '-' and '.' (ASCII))");
  EXPECT_EQ(ParseCommand("/nick 日本 語").error,
            "usage: /nick NAME ('日本 語' is not one: name may only contain letters, digits, '_', "
            "'-' and '.' (ASCII))");
}

TEST(ParseCommand, CommandNamesListEveryServerCommand) {
  const std::vector<std::string> names = CommandNames();
  for (const std::string& name : names) {
    EXPECT_NE(ParseCommand(name).error.rfind("unknown command", 0), 0u) << name;
  }
  EXPECT_EQ(names.size(), 8u);
}

TEST(ParseCommand, WrongUseGivesUsageToo) {
  EXPECT_EQ(ParseCommand("/msg bob").error, "usage: /msg NAME TEXT");
  EXPECT_EQ(ParseCommand("/who me").error, "usage: /who");
  EXPECT_EQ(ParseCommand("/rooms a b").error,
            "usage: /rooms [FROM] ('a b' is not one: room name may only contain letters, digits, "
            "'_', '-' and '.' (ASCII))");
  EXPECT_EQ(ParseCommand("/me").error, "usage: /me ACTION");
}

TEST(ParseCommand, UnknownCommandIsNamed) {
  const Command c = ParseCommand("/frobnicate now");
  EXPECT_EQ(c.kind, CommandKind::kInvalid);
  EXPECT_NE(c.error.find("unknown command /frobnicate"), std::string::npos);
}

// Found by fuzzing: the errors quoted the line back whole (a 7 KiB "name"
// came back in full); they quote it through QuoteSent, cut to a short prefix.
TEST(ParseCommand, ErrorsQuoteWhatWasSentCutToAShortPrefix) {
  const std::string long_name(7000, 'n');
  const Command nick = ParseCommand("/nick " + long_name + " x");
  EXPECT_EQ(nick.kind, CommandKind::kInvalid);
  EXPECT_NE(nick.error.find("('" + QuoteSent(long_name + " x") + "' is not one"),
            std::string::npos);
  EXPECT_LT(nick.error.size(), 300u);
  const Command unknown = ParseCommand("/" + std::string(5000, 'z'));
  EXPECT_EQ(unknown.error, "unknown command /" + std::string(kMaxQuotedChars, 'z') +
                               "… (5000 bytes); type /help for the list (// sends a literal /)");
  // Control characters in the quote are shown, not sent to a terminal.
  EXPECT_NE(ParseCommand("/x\x1b[2J").error.find("/x^[[2j;"), std::string::npos);
}

}  // namespace
}  // namespace chat
