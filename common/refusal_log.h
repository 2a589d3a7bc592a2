#pragma once

#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string_view>

#include "common/log_throttle.h"
#include "common/mutex.h"

namespace chat {

// Counts the refusals of one kind (a bad token, a connection over a limit)
// and logs them at warn, at most one line per interval with how many were
// held back since: a stranger can provoke a refusal at will and must not be
// able to flood the log. Thread-safe.
class RefusalLog {
 public:
  explicit RefusalLog(std::chrono::steady_clock::duration interval = std::chrono::seconds(10))
      : throttle_(interval) {}

  // Counts one refusal and maybe logs `line` (which must not hold secrets).
  void Refused(std::string_view line) {
    count_.fetch_add(1, std::memory_order_relaxed);
    std::uint64_t held_back = 0;
    {
      MutexLock lock(&mu_);
      if (!throttle_.Allow(std::chrono::steady_clock::now(), &held_back)) return;
    }
    if (held_back == 0) {
      spdlog::warn("{}", line);
    } else {
      spdlog::warn("{} ({} more like it not logged)", line, held_back);
    }
  }

  std::uint64_t count() const { return count_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> count_{0};
  Mutex mu_;
  LogThrottle throttle_ ABSL_GUARDED_BY(mu_);
};

}  // namespace chat
