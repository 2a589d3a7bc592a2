#include "server/backlog.h"

#include <gtest/gtest.h>

#include <vector>

namespace chat {
namespace {

EnvelopePtr Message(std::size_t text_bytes, bool replay = false) {
  ChatMessage message;
  message.set_message(std::string(text_bytes, 'x'));
  message.set_replay(replay);
  return MakeEnvelope(std::move(message));
}

TEST(BacklogTest, LiveMessagesAreBoundedByCountAndByBytes) {
  Backlog by_count({.messages = 16, .bytes = 1 << 20, .replay_messages = 0});
  for (int i = 0; i < 16; ++i) {
    ASSERT_TRUE(by_count.Fits(*Message(10)));
    by_count.Pushed(*Message(10));
  }
  EXPECT_FALSE(by_count.Fits(*Message(10)));

  Backlog by_bytes({.messages = 1000, .bytes = 1000, .replay_messages = 0});
  const EnvelopePtr big = Message(300);
  for (int i = 0; i < 3; ++i) by_bytes.Pushed(*big);
  EXPECT_FALSE(by_bytes.Fits(*big)) << by_bytes.live_bytes() << " bytes queued";
  EXPECT_TRUE(by_bytes.Fits(*Message(1)));
}

TEST(BacklogTest, ReplayedHistoryCountsOnlyAgainstItsOwnAllowance) {
  Backlog backlog({.messages = 16, .bytes = 1 << 20, .replay_messages = 40});
  for (int i = 0; i < 40; ++i) {
    ASSERT_TRUE(backlog.Fits(*Message(10, /*replay=*/true)));
    backlog.Pushed(*Message(10, /*replay=*/true));
  }
  EXPECT_FALSE(backlog.Fits(*Message(10, /*replay=*/true)));
  EXPECT_FALSE(backlog.backlogged()) << "a join's burst is not a backlog";
  EXPECT_EQ(backlog.live_messages(), 0u);
  EXPECT_TRUE(backlog.Fits(*Message(10)));
}

TEST(BacklogTest, BackloggedFromTheHighWatermarkUntilDrainedToHalfOfIt) {
  Backlog backlog({.messages = 64, .bytes = 1 << 20, .replay_messages = 0});
  ASSERT_EQ(backlog.high_messages(), 8u);
  std::vector<EnvelopePtr> queued;
  for (int i = 0; i < 7; ++i) {
    queued.push_back(Message(10));
    backlog.Pushed(*queued.back());
  }
  EXPECT_FALSE(backlog.backlogged());
  queued.push_back(Message(10));
  backlog.Pushed(*queued.back());
  EXPECT_TRUE(backlog.backlogged());
  // Writing one at a time: still backlogged above 4 waiting, not at 4.
  for (int written = 1; written <= 4; ++written) {
    backlog.Taken(std::vector<EnvelopePtr>{queued[written - 1]});
    const bool ended = backlog.WriteDone();
    EXPECT_EQ(ended, written == 4) << written << " written";
    EXPECT_EQ(backlog.backlogged(), written < 4);
  }
  EXPECT_FALSE(backlog.WriteDone()) << "ends once";
}

TEST(BacklogTest, DroppingWhatWaitsKeepsWhatIsInFlight) {
  Backlog backlog({.messages = 64, .bytes = 1 << 20, .replay_messages = 0});
  std::vector<EnvelopePtr> queued;
  for (int i = 0; i < 10; ++i) {
    queued.push_back(Message(10));
    backlog.Pushed(*queued.back());
  }
  backlog.Taken(std::vector<EnvelopePtr>{queued[0], queued[1]});
  EXPECT_TRUE(backlog.DroppedWaiting());
  EXPECT_EQ(backlog.live_messages(), 2u);
  backlog.WriteDone();
  EXPECT_EQ(backlog.live_messages(), 0u);
  EXPECT_EQ(backlog.live_bytes(), 0u);
}

}  // namespace
}  // namespace chat
