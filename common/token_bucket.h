#pragma once

#include <algorithm>
#include <chrono>

namespace chat {

// Rate limiting: `rate` tokens per second, at most `burst` saved up. Time is
// passed in, so tests need no clock. Not thread-safe (the owner's lock guards it).
class TokenBucket {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;

  // rate <= 0 means unlimited.
  TokenBucket(double rate, double burst, TimePoint now)
      : rate_(rate), burst_(burst), tokens_(burst), last_(now) {}

  bool TryTake(TimePoint now) {
    if (rate_ <= 0) return true;
    Refill(now);
    if (tokens_ < 1) return false;
    tokens_ -= 1;
    return true;
  }

  // The longest wait NextTokenAt returns: "not in this process's lifetime".
  static constexpr double kMaxWaitSeconds = 100.0 * 365 * 24 * 3600;

  // When TryTake will next succeed (`now` if it would now), at most
  // kMaxWaitSeconds later.
  TimePoint NextTokenAt(TimePoint now) {
    if (rate_ <= 0) return now;
    Refill(now);
    if (tokens_ >= 1) return now;
    // At a tiny rate (1e-300) the wait does not fit in the clock's int64
    // nanoseconds, and converting it would be undefined: cap it.
    const std::chrono::duration<double> wait(std::min((1 - tokens_) / rate_, kMaxWaitSeconds));
    return now + std::chrono::ceil<std::chrono::steady_clock::duration>(wait);
  }

 private:
  void Refill(TimePoint now) {
    const std::chrono::duration<double> elapsed = now - last_;
    last_ = now;
    tokens_ = std::min(burst_, tokens_ + elapsed.count() * rate_);
  }

  double rate_;
  double burst_;
  double tokens_;
  TimePoint last_;
};

// The burst a flood limit of `rate` lines per second allows: twice the rate,
// and at least 10 lines (a short paste). The server enforces it and tells
// clients (see kRateLimitHeader), which pace themselves to it.
inline double FloodBurst(double rate) { return std::max(10.0, 2 * rate); }

}  // namespace chat
