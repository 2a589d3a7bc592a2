#include "common/write_queue.h"

#include <gtest/gtest.h>

namespace chat {
namespace {

using Queue = WriteQueue<int>;

TEST(WriteQueue, FirstPushStartsAWriteLaterOnesWait) {
  Queue q(10);
  EXPECT_EQ(q.Push(1), Queue::PushResult::kStartWrite);
  EXPECT_EQ(q.Push(2), Queue::PushResult::kQueued);
  EXPECT_EQ(q.front(), 1);
  EXPECT_TRUE(q.WriteDone());
  EXPECT_EQ(q.front(), 2);
  EXPECT_FALSE(q.WriteDone());
  EXPECT_FALSE(q.write_in_flight());
  EXPECT_EQ(q.Push(3), Queue::PushResult::kStartWrite);
}

TEST(WriteQueue, RefusesAtTheBoundCountingTheWriteInFlight) {
  Queue q(2);
  q.Push(1);
  q.Push(2);
  EXPECT_EQ(q.Push(3), Queue::PushResult::kFull);
  EXPECT_EQ(q.size(), 2u);
}

TEST(WriteQueue, DropWaitingKeepsTheItemInFlight) {
  Queue q(10);
  q.Push(1);
  q.Push(2);
  q.Push(3);
  q.DropWaiting();
  EXPECT_EQ(q.size(), 1u);
  EXPECT_EQ(q.front(), 1);
  EXPECT_FALSE(q.WriteDone());
  EXPECT_TRUE(q.empty());
}

}  // namespace
}  // namespace chat
