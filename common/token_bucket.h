#pragma once

#include <algorithm>
#include <chrono>

namespace chat {

// Rate limiting: `rate` tokens per second, at most `burst` saved up. Time is
// passed in, so tests need no clock. Not thread-safe (the owner's lock guards it).
class TokenBucket {
 public:
  using Clock = std::chrono::steady_clock;

  // rate <= 0 means unlimited.
  TokenBucket(double rate, double burst, Clock::time_point now)
      : rate_(rate), burst_(burst), tokens_(burst), last_(now) {}

  bool TryTake(Clock::time_point now) {
    if (rate_ <= 0) return true;
    const std::chrono::duration<double> elapsed = now - last_;
    last_ = now;
    tokens_ = std::min(burst_, tokens_ + elapsed.count() * rate_);
    if (tokens_ < 1) return false;
    tokens_ -= 1;
    return true;
  }

 private:
  double rate_;
  double burst_;
  double tokens_;
  Clock::time_point last_;
};

}  // namespace chat
