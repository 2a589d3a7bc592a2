#include "server/write_linger.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

namespace chat {
namespace {

using namespace std::chrono_literals;
using Clock = WriteLinger::Clock;

// Counts what the linger thread does to it; safe to read from the test thread.
class CountingSubscriber : public Subscriber {
 public:
  Delivery Deliver(EnvelopePtr) override { return Delivery::kQueued; }
  void Close(const grpc::Status&) override {}
  void Flush() override {
    // Flush runs while the linger thread still holds its reference.
    refs_at_flush = refs.load();
    flushed_at = Clock::now();
    flushes.fetch_add(1);
  }
  void Ref() override { refs.fetch_add(1); }
  void Unref() override { refs.fetch_sub(1); }

  std::atomic<int> flushes{0};
  std::atomic<int> refs{0};
  std::atomic<int> refs_at_flush{0};
  std::atomic<Clock::time_point> flushed_at{};
};

// Polls `done` for at most 10 s, so a broken linger fails instead of hanging.
template <typename Predicate>
bool Eventually(Predicate done) {
  const auto deadline = Clock::now() + 10s;
  while (!done()) {
    if (Clock::now() > deadline) return false;
    std::this_thread::sleep_for(1ms);
  }
  return true;
}

TEST(WriteLingerTest, WritesAtOnceAfterAQuietLingerAndHoldsRightAfterAWrite) {
  WriteLinger linger(4ms);
  const auto now = Clock::now();
  EXPECT_FALSE(linger.HoldUntil(now - 10ms, now)) << "quiet for longer than the linger";
  EXPECT_FALSE(linger.HoldUntil(now - 3ms, now)) << "due within the quarter served early";
  const auto due = linger.HoldUntil(now - 1ms, now);
  ASSERT_TRUE(due);
  EXPECT_EQ(*due, now + 3ms);
}

TEST(WriteLingerTest, HeldStreamIsFlushedOnceNotBeforeItsTimeThenReleased) {
  CountingSubscriber stream;  // declared first: it must outlive the linger
  WriteLinger linger(40ms);
  const auto due = Clock::now() + 40ms;
  ASSERT_TRUE(linger.Hold(&stream, due));
  EXPECT_EQ(stream.refs.load(), 1) << "the linger keeps the stream alive while it holds it";
  ASSERT_TRUE(Eventually([&] { return stream.refs.load() == 0; }));
  EXPECT_EQ(stream.flushes.load(), 1);
  EXPECT_EQ(stream.refs_at_flush.load(), 1) << "flushed while still referenced";
  // Served at most a quarter of the linger early (never earlier: only lateness is possible).
  EXPECT_GE(stream.flushed_at.load(), due - 10ms);
}

TEST(WriteLingerTest, ManyStreamsAreEachFlushedExactlyOnceInAnyOrderOfDueTimes) {
  std::vector<CountingSubscriber> streams(50);
  WriteLinger linger(20ms);
  const auto start = Clock::now();
  for (std::size_t i = 0; i < streams.size(); ++i) {
    // Due times out of order: the earliest must not wait behind later ones.
    const auto offset = std::chrono::milliseconds((i * 7) % 20);
    ASSERT_TRUE(linger.Hold(&streams[i], start + offset));
  }
  ASSERT_TRUE(Eventually([&] {
    for (const auto& s : streams) {
      if (s.refs.load() != 0) return false;
    }
    return true;
  }));
  for (const auto& s : streams) EXPECT_EQ(s.flushes.load(), 1);
}

TEST(WriteLingerTest, AStreamDueEarlierIsNotKeptWaitingBehindALaterOne) {
  // No reactions call FlushDue here: only the alarm serves. It is set for
  // the first stream held (late); the second is due much earlier and must
  // be flushed on its own time, not with the first.
  CountingSubscriber late;
  CountingSubscriber early;
  WriteLinger linger(1s);
  const auto start = Clock::now();
  ASSERT_TRUE(linger.Hold(&late, start + 3s));
  ASSERT_TRUE(linger.Hold(&early, start + 50ms));
  ASSERT_TRUE(Eventually([&] { return early.flushes.load() == 1; }));
  EXPECT_EQ(late.flushes.load(), 0) << "the early stream waited for the late one";
  EXPECT_LT(early.flushed_at.load(), start + 2s);
  ASSERT_TRUE(Eventually([&] { return late.flushes.load() == 1; }));
  EXPECT_GE(late.flushed_at.load(), start + 3s - 250ms);  // a quarter of the linger early, at most
}

TEST(WriteLingerTest, ReactionsServeWhatIsNearlyDueAndLeaveTheRest) {
  CountingSubscriber soon;
  CountingSubscriber later;
  WriteLinger linger(1s);  // reactions serve up to a quarter of it (250 ms) early
  const auto now = Clock::now();
  ASSERT_TRUE(linger.Hold(&soon, now + 30ms));
  ASSERT_TRUE(linger.Hold(&later, now + 900ms));
  linger.FlushDue();
  EXPECT_EQ(soon.flushes.load(), 1) << "nearly due: served by the reaction, not the alarm";
  EXPECT_EQ(soon.refs.load(), 0);
  EXPECT_EQ(later.flushes.load(), 0) << "not due: left for later";
}

TEST(WriteLingerTest, StopFlushesWhatIsHeldAndRefusesNewHolds) {
  CountingSubscriber held;
  CountingSubscriber late;
  WriteLinger linger(1s);
  ASSERT_TRUE(linger.Hold(&held, Clock::now() + 1h));  // far in the future
  linger.Stop();
  EXPECT_EQ(held.flushes.load(), 1) << "a stream held at shutdown is written, not forgotten";
  EXPECT_EQ(held.refs.load(), 0);

  EXPECT_FALSE(linger.Hold(&late, Clock::now() + 1ms)) << "after Stop the caller writes itself";
  EXPECT_EQ(late.refs.load(), 0);
  linger.Stop();  // idempotent
}

}  // namespace
}  // namespace chat
