#pragma once

#include <atomic>
#include <chrono>
#include <limits>
#include <memory>
#include <optional>
#include <queue>
#include <vector>

#include "common/clock.h"
#include "common/mutex.h"
#include "server/subscriber.h"

namespace chat {

// Holds back a stream's next write for a moment after its last one (the
// "linger" of Nagle's algorithm or Kafka's linger.ms), so that the messages
// arriving meanwhile leave together in one batch frame. A gRPC write costs
// about the same for one message as for forty, and at high per-stream rates
// writes are most of the server's CPU: lingering trades a bounded delay for
// fewer writes. A stream that has not written for a whole linger writes at
// once, so chat at human pace sees no delay at all.
//
// Who flushes held streams: mostly the reactors themselves. Every reaction
// (a read or a write completing) calls FlushDue(), which flushes every
// stream due within a quarter of the linger (a room's members, who wrote at
// nearly the same moment, leave together). Reactions run on the threads that
// poll gRPC's completion queue, and a write started there completes without
// waking another thread; a write started from any other thread costs a
// wake-up and a context switch per write (measured: with a thread of our own,
// or a gRPC alarm, doing the flushing, that ate most of the gain). For quiet
// moments, an alarm (a gRPC callback alarm, in production) is set for the
// earliest held stream as a safety net; a stream held for earlier than the
// alarm is set for cancels it, and the cancelled alarm's callback sets it
// again for the earliest.
//
// Time: all of it comes from `clock` (GrpcClock() in production; tests pass
// a manual clock and move it themselves).
class WriteLinger {
 public:
  // `clock` outlives the linger.
  WriteLinger(std::chrono::microseconds linger, const AlarmClock* clock);
  ~WriteLinger();  // Stop()
  WriteLinger(const WriteLinger&) = delete;
  WriteLinger& operator=(const WriteLinger&) = delete;

  // When a stream that started its last write at `last_write` may start the
  // next one: nullopt for "now", else the time to hand to Hold.
  std::optional<Clock::time_point> HoldUntil(Clock::time_point last_write,
                                             Clock::time_point now) const;

  // The time on the linger's clock (for its callers' last_write and now).
  Clock::time_point Now() const { return clock_->Now(); }

  // Takes a reference on `subscriber` and, at `due` (or a little before, see
  // the class comment), calls its Flush() and then Unref(). Returns false,
  // holding nothing, once stopped: then the caller writes at once. Never
  // calls into `subscriber` on the caller's thread, so the caller may hold
  // the subscriber's own locks.
  bool Hold(Subscriber* subscriber, Clock::time_point due);

  // Flushes the held streams that are due (or nearly). Cheap when none is:
  // one atomic load. Call it from gRPC reactions, with no lock held.
  void FlushDue();

  // Flushes everything still held and waits for the alarm to be done.
  // Idempotent. Call after the server has stopped.
  void Stop();

 private:
  struct Entry {
    Clock::time_point due;
    Subscriber* subscriber;
    bool operator>(const Entry& other) const { return due > other.due; }
  };

  void ArmLocked(Clock::time_point due) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void OnAlarm();
  // Moves the entries due by `serve_until` (all when stopping) into `out`.
  void TakeDueLocked(Clock::time_point serve_until, std::vector<Entry>& out)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  static void FlushAll(std::vector<Entry>& entries);

  const std::chrono::microseconds linger_;
  const std::chrono::microseconds early_;  // linger_ / 4: see the class comment
  const AlarmClock* const clock_;

  Mutex mu_;
  std::priority_queue<Entry, std::vector<Entry>, std::greater<>> waiting_ ABSL_GUARDED_BY(mu_);
  // The alarm in use; replaced only by ArmLocked, when the previous one has
  // fired and is no longer armed.
  std::unique_ptr<AlarmClock::Alarm> alarm_ ABSL_GUARDED_BY(mu_);
  bool armed_ ABSL_GUARDED_BY(mu_) = false;  // set, and its callback not finished
  // When the armed alarm fires; min() once it was cancelled to be set earlier.
  Clock::time_point armed_for_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  // The earliest due time held (Clock ticks; max when none), written under
  // mu_ and read without it by FlushDue's fast path.
  std::atomic<Clock::duration::rep> earliest_due_{std::numeric_limits<Clock::duration::rep>::max()};
  CondVar disarmed_;  // signalled (with mu_) when armed_ turns false
};

}  // namespace chat
