#include "client/message_format.h"

#include <gtest/gtest.h>

namespace chat {
namespace {

ChatMessage Message(Kind kind, std::string user, std::string text, std::string room = "lobby") {
  ChatMessage m;
  m.set_kind(kind);
  m.set_user(std::move(user));
  m.set_message(std::move(text));
  m.set_room(std::move(room));
  m.set_seq(12);
  m.set_time_unix_ms(1795559557970);  // 2026-11-24T22:32:37.970Z
  return m;
}

TEST(FormatPlainLine, HoldsTimeRoomSeqKindSenderText) {
  EXPECT_EQ(FormatPlainLine(Message(CHAT, "alice", "hello world")),
            "2026-11-24T22:32:37.970Z #lobby 12 chat alice hello world");
}

TEST(FormatPlainLine, MarksPrivateMessagesAndEmptyFields) {
  ChatMessage m = Message(PRIVATE, "alice", "psst", "");
  m.set_subject("bob");
  m.set_seq(0);
  EXPECT_EQ(FormatPlainLine(m), "2026-11-24T22:32:37.970Z - 0 private alice>bob psst");
  EXPECT_EQ(FormatPlainLine(Message(GAP, "", "missed")),
            "2026-11-24T22:32:37.970Z #lobby 12 gap - missed");
}

TEST(FormatPlainLine, NeverWritesControlCharacters) {
  const std::string line = FormatPlainLine(Message(CHAT, "x\x1b", "a\x1b[31mb\nc\x07"));
  EXPECT_EQ(line.find('\x1b'), std::string::npos);
  EXPECT_EQ(line.find('\n'), std::string::npos);
  EXPECT_NE(line.find("a^[[31mb^Jc^G"), std::string::npos);
}

TEST(MentionsName, MatchesWholeWordsIgnoringCase) {
  EXPECT_TRUE(MentionsName("hey Alice, look", "alice"));
  EXPECT_TRUE(MentionsName("thanks alice.", "alice"));
  EXPECT_TRUE(MentionsName("@alice", "alice"));
  EXPECT_FALSE(MentionsName("malice aforethought", "alice"));
  EXPECT_FALSE(MentionsName("alice_2 is here", "alice"));
  EXPECT_FALSE(MentionsName("anything", ""));
}

TEST(FormatDisplayLine, ShowsSenderAndRoomAndHighlightsMentions) {
  DisplayStyle plain{false, "bob"};
  const std::string line = FormatDisplayLine(Message(CHAT, "alice", "hi bob"), plain);
  EXPECT_NE(line.find("#lobby <alice> hi bob"), std::string::npos);
  DisplayStyle color{true, "bob"};
  const std::string highlighted = FormatDisplayLine(Message(CHAT, "alice", "hi bob"), color);
  EXPECT_NE(highlighted.find("\033[7mhi bob"), std::string::npos);  // reverse video
}

TEST(FormatDisplayLine, EventsLookDifferentFromMessages) {
  DisplayStyle plain{false, "bob"};
  EXPECT_NE(FormatDisplayLine(Message(JOIN, "carol", "carol joined #lobby"), plain)
                .find("-!- #lobby carol joined #lobby"),
            std::string::npos);
  EXPECT_NE(FormatDisplayLine(Message(ERROR, "*", "not sent: too long"), plain)
                .find("!!! not sent: too long"),
            std::string::npos);
}

TEST(FormatDisplayLine, SanitisesEverythingFromTheNetwork) {
  DisplayStyle color{true, "bob"};
  const std::string line =
      FormatDisplayLine(Message(CHAT, "eve\x1b[2J", "\x1b]0;title\x07", "r\x1b"), color);
  // Our own colour codes start with ESC [ and a digit; nothing else may.
  for (std::size_t at = line.find('\x1b'); at != std::string::npos;
       at = line.find('\x1b', at + 1)) {
    EXPECT_EQ(line[at + 1], '[');
    EXPECT_TRUE(std::isdigit(static_cast<unsigned char>(line[at + 2])));
    EXPECT_NE(line.substr(at, 4), "\x1b[2J");
  }
  EXPECT_NE(line.find("^[]0;title^G"), std::string::npos);
}

}  // namespace
}  // namespace chat
