#include "client/message_format.h"

#include <gtest/gtest.h>

#include <chrono>
#include <ctime>
#include <set>

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

// A big room's joins and leaves together (PRESENCE) look like a JOIN: an
// event, not a line someone called "*" said. Mentions in it are not mentions.
TEST(FormatDisplayLine, PresenceLooksLikeAJoin) {
  DisplayStyle plain{false, "bob"};
  const std::string line =
      FormatDisplayLine(Message(PRESENCE, "*", "3 joined #big: ana, bob and cy", "big"), plain);
  EXPECT_NE(line.find("-!- #big 3 joined #big: ana, bob and cy"), std::string::npos) << line;
  EXPECT_EQ(line.find("<*>"), std::string::npos) << line;
  EXPECT_FALSE(IsMention(Message(PRESENCE, "*", "1 joined #big: bob", "big"), plain));
  EXPECT_EQ(FormatPlainLine(Message(PRESENCE, "*", "2 left #big: ana and bo", "big")),
            "2026-11-24T22:32:37.970Z #big 12 presence * 2 left #big: ana and bo");
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

DisplayStyle Style(bool color, std::string my_name, int colors = 8) {
  DisplayStyle style;
  style.color = color;
  style.my_name = std::move(my_name);
  style.colors = colors;
  return style;
}

ChatMessage Private(std::string from, std::string to, std::string text) {
  ChatMessage m = Message(PRIVATE, std::move(from), std::move(text), "");
  m.set_subject(std::move(to));
  return m;
}

std::string LocalClockOf(std::int64_t unix_ms) {
  const std::time_t seconds = static_cast<std::time_t>(unix_ms / 1000);
  std::tm tm{};
  localtime_r(&seconds, &tm);
  char out[16];
  std::strftime(out, sizeof out, "%H:%M:%S", &tm);
  return out;
}

// The escape sequence that colours a sender's name in a chat line.
std::string ColorOf(const std::string& name, int colors) {
  const std::string line =
      FormatDisplayLine(Message(CHAT, name, "hi"), Style(true, "nobody", colors));
  const std::size_t name_at = line.find("<" + name + ">");
  const std::size_t code_at = line.rfind('\x1b', name_at);
  EXPECT_NE(name_at, std::string::npos);
  EXPECT_NE(code_at, std::string::npos);
  return line.substr(code_at, name_at - code_at);
}

TEST(IsMention, ChatLinesFromOthersThatNameMe) {
  EXPECT_TRUE(IsMention(Message(CHAT, "alice", "hi Bob, look"), Style(true, "bob")));
  EXPECT_FALSE(IsMention(Message(CHAT, "alice", "hi everyone"), Style(true, "bob")));
  EXPECT_FALSE(IsMention(Message(CHAT, "bob", "I am bob"), Style(true, "bob")));
  EXPECT_FALSE(IsMention(Message(CHAT, "alice", "hi bob"), Style(true, "")));
}

TEST(IsMention, ActionsThatNameMe) {
  EXPECT_TRUE(IsMention(Message(ACTION, "alice", "* alice waves at bob"), Style(true, "bob")));
  EXPECT_TRUE(IsMention(Message(ACTION, "alice", "* alice 手を振る bob"), Style(true, "Bob")));
  EXPECT_FALSE(IsMention(Message(ACTION, "alice", "* alice waves"), Style(true, "bob")));
  // My own action names me in front: not a mention.
  EXPECT_FALSE(IsMention(Message(ACTION, "bob", "* bob waves"), Style(true, "bob")));
  EXPECT_FALSE(IsMention(Message(ACTION, "Bob", "* Bob waves at bob"), Style(true, "bob")));
}

TEST(IsMention, PrivateMessagesToMe) {
  EXPECT_TRUE(IsMention(Private("alice", "bob", "psst"), Style(false, "bob")));
  EXPECT_FALSE(IsMention(Private("bob", "alice", "psst alice"), Style(false, "bob")));
}

TEST(IsMention, EventsAndNoticesAreNot) {
  EXPECT_FALSE(IsMention(Message(JOIN, "bob", "bob joined #lobby"), Style(true, "bob")));
  EXPECT_FALSE(
      IsMention(Message(RENAME, "carol", "bob is now known as carol"), Style(true, "bob")));
  EXPECT_FALSE(IsMention(Message(NOTICE, "*", "welcome, bob"), Style(true, "bob")));
}

TEST(FormatDisplayLine, HighlightsActionsThatMentionMe) {
  const ChatMessage action = Message(ACTION, "alice", "* alice waves at bob");
  EXPECT_NE(FormatDisplayLine(action, Style(true, "bob")).find("\033[7m"), std::string::npos);
  EXPECT_EQ(FormatDisplayLine(action, Style(true, "carol")).find("\033[7m"), std::string::npos);
}

TEST(FormatDisplayLine, MarksMentionsWithoutColour) {
  const std::string mention =
      FormatDisplayLine(Message(CHAT, "alice", "hi bob"), Style(false, "bob"));
  EXPECT_EQ(mention.rfind(">> ", 0), 0u) << mention;
  EXPECT_EQ(mention.find('\x1b'), std::string::npos);
  const std::string action =
      FormatDisplayLine(Message(ACTION, "alice", "* alice pokes bob"), Style(false, "bob"));
  EXPECT_EQ(action.rfind(">> ", 0), 0u) << action;
  const std::string whisper =
      FormatDisplayLine(Private("alice", "bob", "psst"), Style(false, "bob"));
  EXPECT_EQ(whisper.rfind(">> ", 0), 0u) << whisper;
  const std::string other =
      FormatDisplayLine(Message(CHAT, "alice", "hi carol"), Style(false, "bob"));
  EXPECT_NE(other.rfind(">> ", 0), 0u) << other;
  ChatMessage old = Message(CHAT, "alice", "hi bob");
  old.set_replay(true);
  EXPECT_EQ(FormatDisplayLine(old, Style(false, "bob")).rfind(">> [history] ", 0), 0u);
}

TEST(FormatDisplayLine, NeverWritesTheBell) {
  for (const bool color : {true, false}) {
    EXPECT_EQ(FormatDisplayLine(Message(CHAT, "alice", "hi bob"), Style(color, "bob")).find('\a'),
              std::string::npos);
  }
}

TEST(TerminalColors, Finds256ColourTerminals) {
  EXPECT_EQ(TerminalColors("xterm-256color", nullptr), 256);
  EXPECT_EQ(TerminalColors("tmux-256color", ""), 256);
  EXPECT_EQ(TerminalColors("xterm", "truecolor"), 256);
  EXPECT_EQ(TerminalColors("xterm", "24bit"), 256);
  EXPECT_EQ(TerminalColors("xterm", nullptr), 8);
  EXPECT_EQ(TerminalColors("linux", "yes"), 8);
  EXPECT_EQ(TerminalColors(nullptr, nullptr), 8);
}

TEST(FormatDisplayLine, SenderColoursUse256ColoursOnlyWhenTheTerminalHasThem) {
  EXPECT_EQ(ColorOf("alice", 256).rfind("\033[38;5;", 0), 0u);
  EXPECT_EQ(ColorOf("alice", 8).find("38;5"), std::string::npos);
  EXPECT_EQ(ColorOf("alice", 16).find("38;5"), std::string::npos);
}

TEST(FormatDisplayLine, SenderColourIsStableAndIgnoresCase) {
  EXPECT_EQ(ColorOf("Alice", 256), ColorOf("alice", 256));
  EXPECT_EQ(ColorOf("ALICE", 8), ColorOf("alice", 8));
  // FNV-1a of "alice" is 2267157479, palette entry 2267157479 % 61 = 3,
  // index 32: the same on every build and run, unlike std::hash.
  EXPECT_EQ(ColorOf("alice", 256), "\033[38;5;32m");
}

TEST(FormatDisplayLine, TenPeopleRarelyShareAColourWith256Colours) {
  const std::string room[] = {"alice", "bob",   "carol", "dave", "erin",
                              "frank", "grace", "heidi", "ivan", "judy"};
  std::set<std::string> colours;
  for (const std::string& name : room) colours.insert(ColorOf(name, 256));
  EXPECT_GE(colours.size(), 8u);

  // Over 500 rooms of ten random names (3 to 8 letters): a palette of 61
  // gives 9.3 distinct colours on average (61 * (1 - (60/61)^10); this hash
  // gives 9.33); 8 colours could give at most 8.
  std::uint64_t seed = 12345;
  const auto random = [&seed] {
    seed = seed * 6364136223846793005u + 1442695040888963407u;
    return static_cast<int>(seed >> 33);
  };
  int distinct = 0;
  constexpr int kRooms = 500;
  for (int r = 0; r < kRooms; ++r) {
    std::set<std::string> seen;
    for (int i = 0; i < 10; ++i) {
      std::string name(3 + random() % 6, ' ');
      for (char& c : name) c = static_cast<char>('a' + random() % 26);
      seen.insert(ColorOf(name, 256));
    }
    distinct += static_cast<int>(seen.size());
  }
  EXPECT_GE(static_cast<double>(distinct) / kRooms, 9.0);
}

TEST(FormatDisplayLine, SenderColoursAvoidGreysNearBlackAndNearWhite) {
  std::set<int> used;
  for (int i = 0; i < 3000; ++i) {
    const std::string code = ColorOf("n" + std::to_string(i), 256);
    used.insert(std::stoi(code.substr(7)));  // after "\033[38;5;"
  }
  EXPECT_GE(used.size(), 30u);
  for (const int index : used) {
    EXPECT_GE(index, 17) << index;   // not the 16 system colours nor black
    EXPECT_LE(index, 230) << index;  // not white nor the grey ramp 232..255
    const int r = (index - 16) / 36, g = (index - 16) / 6 % 6, b = (index - 16) % 6;
    EXPECT_FALSE(r == g && g == b) << index;  // not a grey of the cube
  }
}

TEST(FormatDisplayLine, MessagesWithoutServerTimeShowTheTimeOfArrival) {
  ChatMessage m = Message(CHAT, "alice", "hi");
  m.set_time_unix_ms(0);
  const std::int64_t arrival = 1795559557970;
  EXPECT_EQ(FormatDisplayLine(m, Style(false, "bob"), arrival).rfind(LocalClockOf(arrival), 0), 0u);

  const auto now = [] {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  };
  const std::int64_t before = now();
  const std::string line = FormatDisplayLine(m, Style(false, "bob"));
  const std::int64_t after = now();
  const std::string clock = line.substr(0, 8);
  EXPECT_TRUE(clock == LocalClockOf(before) || clock == LocalClockOf(after)) << line;
  EXPECT_NE(clock, LocalClockOf(0));
}

TEST(FormatDisplayLine, ShowsTheServerTimeWhenThereIsOne) {
  const ChatMessage m = Message(CHAT, "alice", "hi");
  EXPECT_EQ(FormatDisplayLine(m, Style(false, "bob"), 42).rfind(LocalClockOf(m.time_unix_ms()), 0),
            0u);
}

TEST(FormatPlainLine, KeepsTheEpochForMessagesWithoutServerTime) {
  ChatMessage m = Message(CHAT, "alice", "hi");
  m.set_time_unix_ms(0);
  EXPECT_EQ(FormatPlainLine(m), "1970-01-01T00:00:00.000Z #lobby 12 chat alice hi");
}

TEST(FormatDisplayLine, ShowsInvisibleCharactersButKeepsScriptsAndEmoji) {
  const std::string text = "日本語 👨\u200d👩\u200d👧 🇯🇵 cafe\u0301 ad\u200bmin";
  const std::string line = FormatDisplayLine(Message(CHAT, "alice", text), Style(false, "bob"));
  EXPECT_NE(line.find("日本語 👨\u200d👩\u200d👧 🇯🇵 cafe\u0301 ad<U+200B>min"), std::string::npos)
      << line;
  // The shared pipe format is unchanged.
  EXPECT_NE(FormatPlainLine(Message(CHAT, "alice", text)).find(text), std::string::npos);
}

}  // namespace
}  // namespace chat
