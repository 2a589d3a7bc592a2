#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "common/clock.h"

namespace chat::testing {

// A clock that moves only when the test says so, for exact, fast tests of
// time rules (flood control, the linger).
//
// Alarms run on the clock's own thread, one at a time: never on the thread
// that sets or cancels them, as the contract asks. Advance() first lets the
// callbacks already due (cancelled alarms' too) run at the old time, then
// moves the time, stopping at each alarm's deadline to run it, and returns
// once every alarm due by the new time has run, including alarms those
// callbacks set. So right after Advance(), a test can check what the rules
// did by then. Alarms must not outlive the clock.
class ManualClock final : public AlarmClock {
 public:
  // Starts at an arbitrary time well after the epoch: nothing may assume
  // that the clock starts at zero.
  ManualClock() : now_(std::chrono::hours(1000)), worker_([this] { RunCallbacks(); }) {}

  ~ManualClock() override {
    {
      std::lock_guard lock(mu_);
      for (auto& entry : armed_) ready_.emplace_back(std::move(entry), false);
      armed_.clear();
      stopping_ = true;
    }
    work_.notify_one();
    worker_.join();
  }

  ManualClock(const ManualClock&) = delete;
  ManualClock& operator=(const ManualClock&) = delete;

  time_point Now() const override {
    std::lock_guard lock(mu_);
    return now_;
  }

  std::unique_ptr<Alarm> SetAlarm(time_point deadline,
                                  std::function<void(bool)> callback) const override {
    auto entry = std::make_shared<Entry>(Entry{deadline, std::move(callback)});
    {
      std::lock_guard lock(mu_);
      if (deadline <= now_) {
        ready_.emplace_back(entry, true);
        work_.notify_one();
      } else {
        armed_.push_back(entry);
        armed_changed_.notify_all();
      }
    }
    return std::make_unique<Handle>(this, entry);
  }

  // Moves the time forward by `step` (see the class comment), as if it
  // passed: each alarm runs with the clock at its deadline, earliest first.
  // Fails the test if callbacks are still running after 10 s (a deadlock in
  // the code under test) instead of hanging.
  void Advance(duration step) {
    std::unique_lock lock(mu_);
    const time_point target = now_ + step;
    while (WaitIdleLocked(lock)) {
      const auto next =
          std::min_element(armed_.begin(), armed_.end(),
                           [](const auto& a, const auto& b) { return a->deadline < b->deadline; });
      if (next == armed_.end() || (*next)->deadline > target) break;
      now_ = std::max(now_, (*next)->deadline);
      for (auto it = armed_.begin(); it != armed_.end();) {
        if ((*it)->deadline <= now_) {
          ready_.emplace_back(std::move(*it), true);
          it = armed_.erase(it);
        } else {
          ++it;
        }
      }
      armed_changed_.notify_all();
      work_.notify_one();
    }
    now_ = target;
    // Alarms that the last callbacks set for a time already passed have run
    // too (SetAlarm queues them at once, and the loop waited for them).
  }

  // Alarms set and neither run nor cancelled.
  std::size_t armed_alarms() const {
    std::lock_guard lock(mu_);
    return armed_.size();
  }

  // Waits, for at most `timeout`, until `count` alarms are armed: how a test
  // knows that the code under test, on its own threads, has set one (the
  // linger sets one when it holds a stream). False on timeout.
  bool WaitForArmedAlarms(std::size_t count,
                          std::chrono::milliseconds timeout = std::chrono::seconds(10)) const {
    std::unique_lock lock(mu_);
    return armed_changed_.wait_for(lock, timeout, [&] { return armed_.size() == count; });
  }

 private:
  struct Entry {
    time_point deadline;
    std::function<void(bool)> callback;
  };

  class Handle final : public Alarm {
   public:
    Handle(const ManualClock* clock, std::shared_ptr<Entry> entry)
        : clock_(clock), entry_(std::move(entry)) {}
    ~Handle() override { Cancel(); }
    void Cancel() override { clock_->CancelAlarm(entry_); }

   private:
    const ManualClock* const clock_;
    const std::shared_ptr<Entry> entry_;
  };

  void CancelAlarm(const std::shared_ptr<Entry>& entry) const {
    std::lock_guard lock(mu_);
    const auto it = std::find(armed_.begin(), armed_.end(), entry);
    if (it == armed_.end()) return;  // ran, or is about to: cancelling is too late
    armed_.erase(it);
    armed_changed_.notify_all();
    ready_.emplace_back(entry, false);
    work_.notify_one();
  }

  bool WaitIdleLocked(std::unique_lock<std::mutex>& lock) {
    if (idle_.wait_for(lock, std::chrono::seconds(10),
                       [this] { return ready_.empty() && !running_; })) {
      return true;
    }
    ADD_FAILURE() << "ManualClock: alarm callbacks still running after 10 s";
    return false;
  }

  void RunCallbacks() {
    std::unique_lock lock(mu_);
    while (true) {
      work_.wait(lock, [this] { return stopping_ || !ready_.empty(); });
      if (ready_.empty()) return;  // stopping, and nothing left to run
      auto [entry, fired] = std::move(ready_.front());
      ready_.pop_front();
      running_ = true;
      lock.unlock();
      entry->callback(fired);
      entry->callback = nullptr;  // what it captured goes now, not with the last handle
      lock.lock();
      running_ = false;
      if (ready_.empty()) idle_.notify_all();
    }
  }

  mutable std::mutex mu_;
  time_point now_;                                                     // guarded by mu_
  mutable std::vector<std::shared_ptr<Entry>> armed_;                  // guarded by mu_
  mutable std::deque<std::pair<std::shared_ptr<Entry>, bool>> ready_;  // guarded by mu_
  bool running_ = false;                                               // guarded by mu_
  bool stopping_ = false;                                              // guarded by mu_
  mutable std::condition_variable work_;           // ready_ got something, or stopping_
  mutable std::condition_variable armed_changed_;  // armed_ grew or shrank
  std::condition_variable idle_;                   // ready_ empty and nothing running
  std::thread worker_;                             // last: starts once the rest is set up
};

}  // namespace chat::testing
