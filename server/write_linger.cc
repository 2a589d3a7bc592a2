#include "server/write_linger.h"

namespace chat {

WriteLinger::WriteLinger(std::chrono::microseconds linger, const AlarmClock* clock)
    : linger_(linger), early_(linger / 4), clock_(clock) {}

WriteLinger::~WriteLinger() { Stop(); }

std::optional<Clock::time_point> WriteLinger::HoldUntil(Clock::time_point last_write,
                                                        Clock::time_point now) const {
  const Clock::time_point due = last_write + linger_;
  // Held only when the alarm would not serve it at once: it serves entries
  // up to early_ before they are due. (So an alarm is never set in the past.)
  if (now + early_ >= due) return std::nullopt;
  return due;
}

bool WriteLinger::Hold(Subscriber* subscriber, Clock::time_point due) {
  MutexLock lock(&mu_);
  if (stopping_) return false;
  subscriber->Ref();
  waiting_.push({due, subscriber});
  earliest_due_.store(waiting_.top().due.time_since_epoch().count(), std::memory_order_relaxed);
  if (!armed_) {
    ArmLocked(due);
  } else if (due + early_ < armed_for_ && armed_for_ != Clock::time_point::min()) {
    // Due well before the alarm: cancel it; its callback (never on this
    // thread) serves what is due and sets it for the earliest.
    armed_for_ = Clock::time_point::min();
    alarm_->Cancel();
  }
  return true;
}

void WriteLinger::TakeDueLocked(Clock::time_point serve_until, std::vector<Entry>& out) {
  while (!waiting_.empty() && (stopping_ || waiting_.top().due <= serve_until)) {
    out.push_back(waiting_.top());
    waiting_.pop();
  }
  earliest_due_.store(waiting_.empty() ? std::numeric_limits<Clock::duration::rep>::max()
                                       : waiting_.top().due.time_since_epoch().count(),
                      std::memory_order_relaxed);
}

void WriteLinger::FlushDue() {
  const Clock::time_point serve_until = clock_->Now() + early_;
  if (serve_until.time_since_epoch().count() < earliest_due_.load(std::memory_order_relaxed)) {
    return;  // nothing due; a stale value only delays a stream to the alarm
  }
  std::vector<Entry> due_now;
  {
    MutexLock lock(&mu_);
    TakeDueLocked(serve_until, due_now);
  }
  FlushAll(due_now);
}

void WriteLinger::ArmLocked(Clock::time_point due) {
  armed_ = true;
  armed_for_ = due;
  // A fresh alarm each time: the previous one has fired (its callback, which
  // may be the caller, is not cut short by destroying it).
  // At `due` itself: reactions serve streams from a quarter of the linger
  // earlier, so under load the alarm mostly finds nothing left to do.
  alarm_ = clock_->SetAlarm(due, [this](bool) { OnAlarm(); });
}

void WriteLinger::OnAlarm() {
  std::vector<Entry> due_now;
  {
    MutexLock lock(&mu_);
    TakeDueLocked(clock_->Now() + early_, due_now);
  }
  // Unlocked: Flush starts writes (system calls), and Hold must not wait on them.
  FlushAll(due_now);
  MutexLock lock(&mu_);
  if (!stopping_ && !waiting_.empty()) {
    ArmLocked(waiting_.top().due);
  } else {
    armed_ = false;
    disarmed_.SignalAll();
  }
}

void WriteLinger::Stop() {
  AlarmClock::Alarm* armed = nullptr;
  {
    MutexLock lock(&mu_);
    if (stopping_) return;
    stopping_ = true;
    // No alarm is replaced from now on (ArmLocked only runs while not
    // stopping), so this pointer stays valid until the destructor.
    if (armed_) armed = alarm_.get();
  }
  if (armed != nullptr) armed->Cancel();  // its callback runs soon, with ok = false
  std::vector<Entry> left;
  {
    MutexLock lock(&mu_);
    disarmed_.Wait(&mu_, [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return !armed_; });
    TakeDueLocked(Clock::time_point::max(), left);
  }
  FlushAll(left);
}

void WriteLinger::FlushAll(std::vector<Entry>& entries) {
  for (const Entry& entry : entries) {
    entry.subscriber->Flush();
    entry.subscriber->Unref();
  }
  entries.clear();
}

}  // namespace chat
