#pragma once

#include <chrono>
#include <functional>
#include <memory>

namespace chat {

// The time the server's rules run on: flood control (Hub) and the batch
// linger (WriteLinger, ChatReactor). Steady time, read through this
// interface so that tests can run the rules on a clock that moves only when
// they say (test/support/manual_clock.h): exact, and no test waits for real
// time to pass. Production uses SteadyClock(), or GrpcClock()
// (server/grpc_clock.h) where alarms are needed. Wall-clock stamps on
// messages (time_unix_ms) are not rules and stay real time.
//
// Implementations are safe to call from any thread.
class Clock {
 public:
  using duration = std::chrono::steady_clock::duration;
  using time_point = std::chrono::steady_clock::time_point;

  virtual ~Clock() = default;
  virtual time_point Now() const = 0;
};

// A Clock that can also call back at a time: what the linger's safety net needs.
class AlarmClock : public Clock {
 public:
  // One callback at one time. Destroying it cancels it.
  class Alarm {
   public:
    virtual ~Alarm() = default;
    // If the callback has not run yet, it runs soon with `false`.
    virtual void Cancel() = 0;
  };

  // Calls `callback(true)` once Now() has reached `deadline`, or
  // `callback(false)` if the alarm is cancelled first: exactly once, and
  // never on the thread that sets or cancels the alarm (which may hold locks
  // the callback takes). The clock outlives its alarms. The callback may run
  // after the Alarm object is gone (a cancelled alarm still calls back, on
  // another thread): whatever it touches must live until it has run, so an
  // owner waits for it before going away (as WriteLinger::Stop does).
  virtual std::unique_ptr<Alarm> SetAlarm(time_point deadline,
                                          std::function<void(bool)> callback) const = 0;
};

// std::chrono::steady_clock.
inline const Clock* SteadyClock() {
  class Steady final : public Clock {
   public:
    time_point Now() const override { return std::chrono::steady_clock::now(); }
  };
  static const Steady* const clock = new Steady;  // never destroyed: usable until exit
  return clock;
}

}  // namespace chat
