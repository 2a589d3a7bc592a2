#include "common/write_queue.h"

#include <gtest/gtest.h>

namespace chat {
namespace {

using Queue = WriteQueue<int>;

TEST(WriteQueue, FirstPushStartsAWriteLaterOnesWait) {
  Queue q(10);
  EXPECT_EQ(q.Push(1), Queue::PushResult::kStartWrite);
  EXPECT_EQ(q.TakeBatch(), std::vector<int>{1});
  EXPECT_EQ(q.Push(2), Queue::PushResult::kQueued);
  EXPECT_TRUE(q.write_in_flight());
  EXPECT_TRUE(q.WriteDone());
  EXPECT_EQ(q.TakeBatch(), std::vector<int>{2});
  EXPECT_FALSE(q.WriteDone());
  EXPECT_FALSE(q.write_in_flight());
  EXPECT_EQ(q.Push(3), Queue::PushResult::kStartWrite);
}

TEST(WriteQueue, BatchTakesWhatWaitsInOrderUpToTheMaximum) {
  Queue q(10);
  for (int i = 1; i <= 5; ++i) q.Push(i);
  EXPECT_EQ(q.TakeBatch(3), (std::vector<int>{1, 2, 3}));
  EXPECT_EQ(q.size(), 5u);
  EXPECT_TRUE(q.WriteDone());
  EXPECT_EQ(q.TakeBatch(3), (std::vector<int>{4, 5}));
}

TEST(WriteQueue, RefusesAtTheBoundCountingTheWriteInFlight) {
  Queue q(2);
  q.Push(1);
  q.TakeBatch();
  q.Push(2);
  EXPECT_EQ(q.Push(3), Queue::PushResult::kFull);
  EXPECT_EQ(q.size(), 2u);
}

TEST(WriteQueue, DropWaitingKeepsTheItemsInFlight) {
  Queue q(10);
  q.Push(1);
  q.Push(2);
  q.TakeBatch(2);
  q.Push(3);
  q.DropWaiting();
  EXPECT_EQ(q.size(), 2u);
  EXPECT_FALSE(q.WriteDone());
  EXPECT_TRUE(q.empty());
}

}  // namespace
}  // namespace chat

#include "common/token_bucket.h"

namespace chat {
namespace {

TEST(TokenBucket, AllowsABurstThenTheRate) {
  const auto start = TokenBucket::Clock::now();
  TokenBucket bucket(2, 4, start);
  for (int i = 0; i < 4; ++i) EXPECT_TRUE(bucket.TryTake(start));
  EXPECT_FALSE(bucket.TryTake(start));
  EXPECT_TRUE(bucket.TryTake(start + std::chrono::milliseconds(500)));  // one token per 0.5 s
  EXPECT_FALSE(bucket.TryTake(start + std::chrono::milliseconds(600)));
  EXPECT_TRUE(TokenBucket(0, 0, start).TryTake(start));  // 0 = unlimited
}

}  // namespace
}  // namespace chat
