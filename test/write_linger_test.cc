// The linger's time rules on a manual clock: every test moves the clock
// itself, and ManualClock::Advance returns once the alarms due have run, so
// each check is exact (to the nanosecond) and no test waits for real time.
#include "server/write_linger.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <vector>

#include "test/support/manual_clock.h"

namespace chat {
namespace {

using namespace std::chrono_literals;
using ::chat::testing::ManualClock;

// Counts what the linger does to it. The linger calls it on the clock's
// thread (alarms) or on the test thread (FlushDue, Stop).
class CountingSubscriber : public Subscriber {
 public:
  explicit CountingSubscriber(const Clock* clock) : clock_(clock) {}
  Delivered Deliver(EnvelopePtr) override { return Delivery::kQueued; }
  bool Backlogged() override { return false; }
  void Resume() override {}
  void Close(const grpc::Status&) override {}
  void Flush() override {
    // Flush runs while the linger still holds its reference.
    refs_at_flush = refs.load();
    flushed_at = clock_->Now();
    flushes.fetch_add(1);
  }
  void Ref() override { refs.fetch_add(1); }
  void Unref() override { refs.fetch_sub(1); }

  std::atomic<int> flushes{0};
  std::atomic<int> refs{0};
  std::atomic<int> refs_at_flush{0};
  std::atomic<Clock::time_point> flushed_at{};

 private:
  const Clock* const clock_;
};

// Declared in this order in every test: the clock outlives the subscribers,
// which outlive the linger (its destructor flushes what it still holds).
class WriteLingerTest : public ::testing::Test {
 protected:
  ManualClock clock_;
};

TEST_F(WriteLingerTest, WritesAtOnceAfterAQuietLingerAndHoldsRightAfterAWrite) {
  WriteLinger linger(4ms, &clock_);
  const auto now = clock_.Now();
  EXPECT_FALSE(linger.HoldUntil(now - 10ms, now)) << "quiet for longer than the linger";
  EXPECT_FALSE(linger.HoldUntil(now - 4ms, now)) << "quiet for exactly the linger";
  EXPECT_FALSE(linger.HoldUntil(now - 3ms, now)) << "due within the quarter served early";
  const auto due = linger.HoldUntil(now - 1ms, now);
  ASSERT_TRUE(due);
  EXPECT_EQ(*due, now + 3ms) << "due a whole linger after the last write";
  EXPECT_EQ(linger.HoldUntil(now - 3ms + 1ns, now), now + 1ms + 1ns)
      << "just over a quarter of the linger to go: held";
}

TEST_F(WriteLingerTest, WithNoReactionsTheAlarmFlushesAHeldStreamExactlyWhenDueThenReleasesIt) {
  CountingSubscriber stream(&clock_);
  WriteLinger linger(40ms, &clock_);
  const auto due = clock_.Now() + 40ms;
  ASSERT_TRUE(linger.Hold(&stream, due));
  EXPECT_EQ(stream.refs.load(), 1) << "the linger keeps the stream alive while it holds it";

  clock_.Advance(40ms - 1ns);
  EXPECT_EQ(stream.flushes.load(), 0) << "flushed before it was due";
  EXPECT_EQ(stream.refs.load(), 1);

  clock_.Advance(1ns);
  EXPECT_EQ(stream.flushes.load(), 1);
  EXPECT_EQ(stream.flushed_at.load(), due);
  EXPECT_EQ(stream.refs_at_flush.load(), 1) << "flushed while still referenced";
  EXPECT_EQ(stream.refs.load(), 0) << "released after its flush";
  EXPECT_EQ(clock_.armed_alarms(), 0u) << "nothing held, no alarm";

  clock_.Advance(1h);
  EXPECT_EQ(stream.flushes.load(), 1) << "flushed once only";
}

TEST_F(WriteLingerTest, ReactionsServeStreamsFromAQuarterOfTheLingerBeforeTheyAreDue) {
  CountingSubscriber soon(&clock_);
  CountingSubscriber later(&clock_);
  WriteLinger linger(1s, &clock_);  // a quarter: 250 ms
  const auto start = clock_.Now();
  ASSERT_TRUE(linger.Hold(&soon, start + 500ms));
  ASSERT_TRUE(linger.Hold(&later, start + 900ms));

  linger.FlushDue();
  clock_.Advance(250ms - 1ns);
  linger.FlushDue();
  EXPECT_EQ(soon.flushes.load(), 0) << "served more than a quarter of the linger early";

  clock_.Advance(1ns);
  linger.FlushDue();
  EXPECT_EQ(soon.flushes.load(), 1) << "a quarter of the linger to go: the reaction serves it";
  EXPECT_EQ(soon.flushed_at.load(), start + 250ms);
  EXPECT_EQ(soon.refs.load(), 0);
  EXPECT_EQ(later.flushes.load(), 0) << "not nearly due: left for later";

  // No more reactions: the alarm serves the other one when it is due.
  clock_.Advance(650ms - 1ns);
  EXPECT_EQ(later.flushes.load(), 0);
  clock_.Advance(1ns);
  EXPECT_EQ(later.flushes.load(), 1);
  EXPECT_EQ(later.flushed_at.load(), start + 900ms);
  EXPECT_EQ(soon.flushes.load(), 1) << "the alarm flushed a stream the reaction had served";
}

TEST_F(WriteLingerTest, AStreamDueEarlierIsNotKeptWaitingBehindALaterOne) {
  // No reactions call FlushDue here: only the alarm serves. It is set for
  // the first stream held; the second is due much earlier, so the alarm is
  // cancelled and set again for it.
  CountingSubscriber late(&clock_);
  CountingSubscriber early(&clock_);
  WriteLinger linger(1s, &clock_);
  const auto start = clock_.Now();
  ASSERT_TRUE(linger.Hold(&late, start + 3s));
  ASSERT_TRUE(linger.Hold(&early, start + 500ms));

  clock_.Advance(500ms - 1ns);
  EXPECT_EQ(early.flushes.load(), 0) << "flushed before it was due";
  clock_.Advance(1ns);
  EXPECT_EQ(early.flushes.load(), 1) << "the early stream waited for the late one";
  EXPECT_EQ(early.flushed_at.load(), start + 500ms);
  EXPECT_EQ(late.flushes.load(), 0) << "the late stream left with the early one";

  clock_.Advance(2500ms - 1ns);
  EXPECT_EQ(late.flushes.load(), 0);
  clock_.Advance(1ns);
  EXPECT_EQ(late.flushes.load(), 1);
  EXPECT_EQ(late.flushed_at.load(), start + 3s);
  EXPECT_EQ(late.refs.load(), 0);
  EXPECT_EQ(early.refs.load(), 0);
}

TEST_F(WriteLingerTest, ManyStreamsAreEachFlushedOnceWithinAQuarterOfTheLingerOfTheirDueTime) {
  // Only the alarm serves: it flushes what is due within a quarter of the
  // linger when it fires, and a stream held for less than a quarter before
  // the alarm waits for it, so each stream leaves within a quarter of the
  // linger of its due time, either side, and by then at the latest.
  constexpr auto kLinger = 20ms;
  constexpr auto kQuarter = kLinger / 4;
  std::vector<std::unique_ptr<CountingSubscriber>> streams;
  for (int i = 0; i < 50; ++i) streams.push_back(std::make_unique<CountingSubscriber>(&clock_));
  WriteLinger linger(kLinger, &clock_);
  const auto start = clock_.Now();
  std::vector<Clock::time_point> due;
  for (std::size_t i = 0; i < streams.size(); ++i) {
    // Due times out of order, all in the future: the earliest must not wait
    // behind later ones.
    due.push_back(start + kQuarter + 1ms + std::chrono::milliseconds((i * 7) % 20));
    ASSERT_TRUE(linger.Hold(streams[i].get(), due[i]));
  }
  for (auto now = start; now <= start + 30ms; now += 1ms) {
    if (now > start) clock_.Advance(1ms);
    for (std::size_t i = 0; i < streams.size(); ++i) {
      const CountingSubscriber& s = *streams[i];
      if (s.flushes.load() > 0) {
        EXPECT_GE(s.flushed_at.load(), due[i] - kQuarter) << "stream " << i << " too early";
        EXPECT_LE(s.flushed_at.load(), due[i] + kQuarter) << "stream " << i << " too late";
      }
      if (now >= due[i] + kQuarter) {
        EXPECT_EQ(s.flushes.load(), 1) << "stream " << i << " at +" << (now - start).count();
      }
    }
  }
  for (const auto& s : streams) {
    EXPECT_EQ(s->flushes.load(), 1);
    EXPECT_EQ(s->refs.load(), 0);
  }
}

TEST_F(WriteLingerTest, StopFlushesWhatIsHeldAndRefusesNewHolds) {
  CountingSubscriber held(&clock_);
  CountingSubscriber late(&clock_);
  WriteLinger linger(1s, &clock_);
  ASSERT_TRUE(linger.Hold(&held, clock_.Now() + 1h));  // far in the future
  linger.Stop();
  EXPECT_EQ(held.flushes.load(), 1) << "a stream held at shutdown is written, not forgotten";
  EXPECT_EQ(held.flushed_at.load(), clock_.Now()) << "at once, not when it was due";
  EXPECT_EQ(held.refs.load(), 0);
  EXPECT_EQ(clock_.armed_alarms(), 0u) << "the alarm was cancelled";

  EXPECT_FALSE(linger.Hold(&late, clock_.Now() + 1ms)) << "after Stop the caller writes itself";
  EXPECT_EQ(late.refs.load(), 0);
  linger.Stop();  // idempotent
  clock_.Advance(2h);
  EXPECT_EQ(held.flushes.load(), 1);
  EXPECT_EQ(late.flushes.load(), 0);
}

}  // namespace
}  // namespace chat
