#pragma once

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>

#include "common/clock.h"

namespace chat {

// One callback, run at the earliest time asked for, on an AlarmClock's
// alarm thread (a gRPC thread in production); re-armed for the next time as
// often as asked. What the hub's presence coalescing waits with.
//
// RunAt never calls `on_due` on its own thread, so it may be called with
// locks held that `on_due` takes (the hub calls it under its mutex, and
// on_due takes that mutex: order hub, then timer). on_due runs with no
// lock of the timer's held and may call RunAt itself.
//
// Lifetime: Stop() (or the destructor) cancels what is armed and waits for
// a callback under way; after it, on_due never runs again. Call it without
// the locks on_due takes, and never from on_due.
class AlarmTimer {
 public:
  // `clock` outlives the timer.
  AlarmTimer(const AlarmClock* clock, std::function<void()> on_due);
  ~AlarmTimer();  // Stop()
  AlarmTimer(const AlarmTimer&) = delete;
  AlarmTimer& operator=(const AlarmTimer&) = delete;

  // Makes on_due run once the clock reaches `due`, or earlier if an earlier
  // time is already asked for: each call asks for one run at or after its
  // time; runs asked for by then are merged into one. No-op once stopped.
  void RunAt(Clock::time_point due);

  // Idempotent.
  void Stop();

 private:
  void ArmLocked(Clock::time_point due);  // requires mu_
  void OnAlarm();

  const AlarmClock* const clock_;
  const std::function<void()> on_due_;

  // std::mutex rather than chat::Mutex: the condition variable needs it.
  std::mutex mu_;
  std::optional<Clock::time_point> wanted_;   // guarded by mu_: earliest time asked for, not run
  std::unique_ptr<AlarmClock::Alarm> alarm_;  // guarded by mu_; replaced only when not armed
  bool busy_ = false;             // guarded by mu_: an alarm is set or its callback is running
  bool in_callback_ = false;      // guarded by mu_
  Clock::time_point armed_for_;   // guarded by mu_
  bool cancelled_ = false;        // guarded by mu_: the armed alarm was cancelled to come earlier
  bool stopping_ = false;         // guarded by mu_
  std::condition_variable idle_;  // signalled (with mu_) when busy_ turns false
};

}  // namespace chat
