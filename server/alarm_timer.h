#pragma once

#include <functional>
#include <memory>
#include <optional>

#include "common/clock.h"
#include "common/mutex.h"

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
  void ArmLocked(Clock::time_point due) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void OnAlarm();

  const AlarmClock* const clock_;
  const std::function<void()> on_due_;

  Mutex mu_;
  // The earliest time asked for and not run yet.
  std::optional<Clock::time_point> wanted_ ABSL_GUARDED_BY(mu_);
  std::unique_ptr<AlarmClock::Alarm> alarm_ ABSL_GUARDED_BY(mu_);  // replaced only when not armed
  bool busy_ ABSL_GUARDED_BY(mu_) = false;  // an alarm is set or its callback is running
  bool in_callback_ ABSL_GUARDED_BY(mu_) = false;
  Clock::time_point armed_for_ ABSL_GUARDED_BY(mu_);
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;  // the armed alarm was cancelled to come earlier
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  CondVar idle_;  // signalled (with mu_) when busy_ turns false
};

}  // namespace chat
