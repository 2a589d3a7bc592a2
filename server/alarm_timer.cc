#include "server/alarm_timer.h"

namespace chat {

AlarmTimer::AlarmTimer(const AlarmClock* clock, std::function<void()> on_due)
    : clock_(clock), on_due_(std::move(on_due)) {}

AlarmTimer::~AlarmTimer() { Stop(); }

void AlarmTimer::RunAt(Clock::time_point due) {
  MutexLock lock(&mu_);
  if (stopping_) return;
  if (!wanted_ || due < *wanted_) wanted_ = due;
  if (!busy_) {
    busy_ = true;
    ArmLocked(*wanted_);
  } else if (!in_callback_ && !cancelled_ && due < armed_for_) {
    // Wanted before the alarm: cancel it; its callback (never on this
    // thread) finds the earlier time and arms for it, or runs at once.
    cancelled_ = true;
    alarm_->Cancel();
  }
  // In the callback: it arms for wanted_ when on_due returns.
}

void AlarmTimer::ArmLocked(Clock::time_point due) {
  armed_for_ = due;
  cancelled_ = false;
  // A fresh alarm each time: the previous one has called back (its callback,
  // which may be the caller, is not cut short by destroying it).
  alarm_ = clock_->SetAlarm(due, [this](bool) { OnAlarm(); });
}

void AlarmTimer::OnAlarm() {
  MutexLock lock(&mu_);
  in_callback_ = true;
  // Fired or cancelled alike: what is due runs, what is not is armed for.
  if (!stopping_ && wanted_ && *wanted_ <= clock_->Now()) {
    wanted_.reset();
    // Unlocked: on_due may call RunAt, and takes locks ordered before ours.
    mu_.Unlock();
    on_due_();
    mu_.Lock();
  }
  in_callback_ = false;
  if (!stopping_ && wanted_) {
    ArmLocked(*wanted_);
    return;
  }
  busy_ = false;
  idle_.SignalAll();
}

void AlarmTimer::Stop() {
  AlarmClock::Alarm* armed = nullptr;
  {
    MutexLock lock(&mu_);
    if (!stopping_ && busy_ && !in_callback_) armed = alarm_.get();
    stopping_ = true;
    wanted_.reset();
  }
  // No alarm is replaced from now on (ArmLocked only runs while not
  // stopping), so this pointer stays valid. Its callback runs soon.
  if (armed != nullptr) armed->Cancel();
  MutexLock lock(&mu_);
  idle_.Wait(&mu_, [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return !busy_; });
}

}  // namespace chat
