#pragma once

#include <chrono>
#include <cstdint>
#include <utility>

namespace chat {

// Lets one log line of a kind through per `interval` and counts the ones held
// back, for lines that anyone can trigger (a refusal a stranger can provoke
// at will) and that must not flood the log. Time is passed in, so tests need
// no clock. Not thread-safe (the owner's lock guards it).
class LogThrottle {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;

  explicit LogThrottle(std::chrono::steady_clock::duration interval) : interval_(interval) {}

  // True when a line may be logged at `now`: the first time, then once the
  // interval has passed since the last line let through. `*held_back` then
  // says how many were refused since that line.
  bool Allow(TimePoint now, std::uint64_t* held_back) {
    if (allowed_once_ && now - last_ < interval_) {
      ++held_back_;
      return false;
    }
    allowed_once_ = true;
    last_ = now;
    *held_back = std::exchange(held_back_, 0);
    return true;
  }

 private:
  std::chrono::steady_clock::duration interval_;
  bool allowed_once_ = false;
  TimePoint last_{};
  std::uint64_t held_back_ = 0;
};

}  // namespace chat
