// AlarmTimer on a manual clock: Advance returns once the alarms due have
// run, so each check is exact and no test waits for real time.
#include "server/alarm_timer.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <thread>
#include <vector>

#include "test/support/manual_clock.h"

namespace chat {
namespace {

using namespace std::chrono_literals;
using ::chat::testing::ManualClock;

class AlarmTimerTest : public ::testing::Test {
 protected:
  // The times on_due ran at. Written on the clock's thread; read after
  // Advance, which waits for the callbacks.
  std::vector<Clock::time_point> runs_;
  ManualClock clock_;
};

TEST_F(AlarmTimerTest, RunsOnceAtTheTimeAskedAndNotBefore) {
  AlarmTimer timer(&clock_, [this] { runs_.push_back(clock_.Now()); });
  const auto t0 = clock_.Now();
  timer.RunAt(t0 + 1s);
  clock_.Advance(999ms);
  EXPECT_TRUE(runs_.empty());
  clock_.Advance(1ms);
  EXPECT_EQ(runs_, (std::vector{t0 + 1s}));
  clock_.Advance(10s);
  EXPECT_EQ(runs_.size(), 1u);
  EXPECT_EQ(clock_.armed_alarms(), 0u);
}

TEST_F(AlarmTimerTest, AnEarlierTimeCancelsTheAlarmAndRequestsMergeIntoOneRun) {
  AlarmTimer timer(&clock_, [this] { runs_.push_back(clock_.Now()); });
  const auto t0 = clock_.Now();
  timer.RunAt(t0 + 2s);
  timer.RunAt(t0 + 1s);
  timer.RunAt(t0 + 1500ms);
  clock_.Advance(3s);
  EXPECT_EQ(runs_, (std::vector{t0 + 1s}));
  EXPECT_EQ(clock_.armed_alarms(), 0u);
}

TEST_F(AlarmTimerTest, ATimeAlreadyPastRunsAtOnce) {
  AlarmTimer timer(&clock_, [this] { runs_.push_back(clock_.Now()); });
  const auto t0 = clock_.Now();
  timer.RunAt(t0 - 1s);
  clock_.Advance(0ms);
  EXPECT_EQ(runs_, (std::vector{t0}));
}

TEST_F(AlarmTimerTest, OnDueMayAskForTheNextRun) {
  const auto t0 = clock_.Now();
  AlarmTimer* self = nullptr;
  AlarmTimer timer(&clock_, [&] {
    runs_.push_back(clock_.Now());
    if (runs_.size() < 3) self->RunAt(clock_.Now() + 1s);
  });
  self = &timer;
  timer.RunAt(t0 + 1s);
  clock_.Advance(10s);
  EXPECT_EQ(runs_, (std::vector{t0 + 1s, t0 + 2s, t0 + 3s}));
}

TEST_F(AlarmTimerTest, AfterStopNothingRunsAndNothingIsArmed) {
  AlarmTimer timer(&clock_, [this] { runs_.push_back(clock_.Now()); });
  timer.RunAt(clock_.Now() + 1s);
  ASSERT_EQ(clock_.armed_alarms(), 1u);
  timer.Stop();
  EXPECT_EQ(clock_.armed_alarms(), 0u);
  timer.RunAt(clock_.Now() + 1s);
  EXPECT_EQ(clock_.armed_alarms(), 0u);
  clock_.Advance(5s);
  EXPECT_TRUE(runs_.empty());
  timer.Stop();  // idempotent
}

// Stop waits for a callback under way: what on_due touches may go as soon
// as Stop returns.
TEST_F(AlarmTimerTest, StopWaitsForARunUnderWay) {
  std::promise<void> entered, release;
  std::shared_future<void> released = release.get_future().share();
  std::atomic<bool> finished{false};
  AlarmTimer timer(&clock_, [&] {
    entered.set_value();
    released.wait();
    finished = true;
  });
  timer.RunAt(clock_.Now());  // runs at once, on the clock's thread
  ASSERT_EQ(entered.get_future().wait_for(10s), std::future_status::ready);
  bool finished_when_stopped = false;
  std::thread stopper([&] {
    timer.Stop();
    finished_when_stopped = finished;
  });
  // Not a wait for an event: it only makes it likely that Stop is already
  // waiting when on_due is let go (the check holds in any order).
  std::this_thread::sleep_for(20ms);
  release.set_value();
  stopper.join();
  EXPECT_TRUE(finished_when_stopped);
}

}  // namespace
}  // namespace chat
