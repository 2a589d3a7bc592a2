#pragma once

#include <chrono>
#include <functional>
#include <thread>

#include "common/mutex.h"

namespace chat {

// Runs `task` every `interval` (real time) on a thread of its own, until
// destroyed. For housekeeping that would otherwise wait for the next client
// to come along (the hub reclaiming idle rooms on a quiet server). The task
// must not block for long; the destructor waits for a run under way.
class PeriodicTask {
 public:
  PeriodicTask(std::chrono::milliseconds interval, std::function<void()> task);
  ~PeriodicTask();  // stops at once (after a run under way)
  PeriodicTask(const PeriodicTask&) = delete;
  PeriodicTask& operator=(const PeriodicTask&) = delete;

 private:
  void Run();

  const std::chrono::milliseconds interval_;
  const std::function<void()> task_;
  Mutex mu_;
  CondVar stop_requested_;  // waited on with mu_
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;  // last: starts once the rest is set up
};

}  // namespace chat
