#pragma once

#include <atomic>
#include <chrono>
#include <future>
#include <vector>

#include "common/mutex.h"
#include "server/hub.h"

namespace chat::testing {

// Checks, from another thread, that the hub's mutex can be taken: called
// inside Subscriber::Flush, it proves that Flush runs without the mutex held
// (a call that takes the mutex completes). Safe to call from many threads.
class HubLockProbe {
 public:
  // A bound, not an expected time: generous for a loaded machine under a sanitizer.
  static constexpr std::chrono::seconds kWait{30};

  explicit HubLockProbe(const Hub& hub) : hub_(hub) {}
  ~HubLockProbe() {
    MutexLock lock(&mu_);
    stuck_.clear();  // waits for probes that found the mutex held (it is free by now)
  }
  HubLockProbe(const HubLockProbe&) = delete;
  HubLockProbe& operator=(const HubLockProbe&) = delete;

  void Check() {
    if (failed_.load()) return;  // one failure says it; do not wait again
    auto count = std::async(std::launch::async, [this] { return hub_.member_count(); });
    probes_.fetch_add(1);
    if (count.wait_for(kWait) != std::future_status::ready) {
      failed_.store(true);
      // Its destructor would wait for the hub's mutex, which this thread may hold.
      MutexLock lock(&mu_);
      stuck_.push_back(std::move(count));
    }
  }
  int probes() const { return probes_.load(); }
  bool failed() const { return failed_.load(); }

 private:
  const Hub& hub_;
  std::atomic<int> probes_{0};
  std::atomic<bool> failed_{false};
  Mutex mu_;
  std::vector<std::future<std::size_t>> stuck_ ABSL_GUARDED_BY(mu_);
};

}  // namespace chat::testing
