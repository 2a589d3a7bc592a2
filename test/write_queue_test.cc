#include "common/write_queue.h"

#include <gtest/gtest.h>

#include <memory>

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

TEST(WriteQueue, KeepsFifoOrderAcrossWrapAroundAndGrowth) {
  // Interleaved pushes and takes walk the ring's head around its end, and a
  // burst then grows it while wrapped: order must survive both.
  Queue q;
  int next_in = 0;
  int next_out = 0;
  for (int round = 0; round < 50; ++round) {
    const int pushes = 1 + (round * 7) % 13;  // 1..13, more than the first ring holds
    for (int i = 0; i < pushes; ++i) q.Push(next_in++);
    if (!q.write_in_flight() && q.waiting() > 0) {
      for (int item : q.TakeBatch(1 + round % 5)) EXPECT_EQ(item, next_out++);
    }
    q.WriteDone();
  }
  while (q.waiting() > 0) {
    for (int item : q.TakeBatch(4)) EXPECT_EQ(item, next_out++);
    q.WriteDone();
  }
  EXPECT_EQ(next_out, next_in);
  EXPECT_TRUE(q.empty());
}

TEST(WriteQueue, BatchStopsBeforeItsByteBudgetButAlwaysTakesOne) {
  Queue q;
  for (int size : {400, 300, 200, 100}) q.Push(size);
  const auto size_of = [](int item) { return static_cast<std::size_t>(item); };
  EXPECT_EQ(q.TakeBatch(10, 750, size_of), (std::vector<int>{400, 300}));
  q.WriteDone();
  EXPECT_EQ(q.TakeBatch(10, 150, size_of), (std::vector<int>{200})) << "one, even over budget";
  q.WriteDone();
  EXPECT_EQ(q.TakeBatch(10, 150, size_of), (std::vector<int>{100}));
}

TEST(WriteQueue, ReleasesItemsAsSoonAsTheyAreWritten) {
  // Items are shared message buffers: the queue must not keep them alive.
  WriteQueue<std::shared_ptr<int>> q;
  auto item = std::make_shared<int>(1);
  for (int i = 0; i < 20; ++i) q.Push(item);
  q.TakeBatch(20);
  EXPECT_EQ(item.use_count(), 21);
  q.WriteDone();
  EXPECT_EQ(item.use_count(), 1);
  q.Push(item);
  q.DropWaiting();
  EXPECT_EQ(item.use_count(), 1);
}

}  // namespace
}  // namespace chat

#include "common/token_bucket.h"

namespace chat {
namespace {

TEST(TokenBucket, AllowsABurstThenTheRate) {
  const auto start = std::chrono::steady_clock::now();
  TokenBucket bucket(2, 4, start);
  for (int i = 0; i < 4; ++i) EXPECT_TRUE(bucket.TryTake(start));
  EXPECT_FALSE(bucket.TryTake(start));
  EXPECT_TRUE(bucket.TryTake(start + std::chrono::milliseconds(500)));  // one token per 0.5 s
  EXPECT_FALSE(bucket.TryTake(start + std::chrono::milliseconds(600)));
  EXPECT_TRUE(TokenBucket(0, 0, start).TryTake(start));  // 0 = unlimited
}

}  // namespace
}  // namespace chat
