#include "server/periodic_task.h"

namespace chat {

PeriodicTask::PeriodicTask(std::chrono::milliseconds interval, std::function<void()> task)
    : interval_(interval), task_(std::move(task)), thread_([this] { Run(); }) {}

PeriodicTask::~PeriodicTask() {
  {
    MutexLock lock(&mu_);
    stopping_ = true;
  }
  stop_requested_.Signal();
  thread_.join();
}

void PeriodicTask::Run() {
  MutexLock lock(&mu_);
  while (!stop_requested_.WaitFor(
      &mu_, interval_, [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stopping_; })) {
    // Unlocked: the destructor must be able to ask for a stop during a run.
    mu_.Unlock();
    task_();
    mu_.Lock();
  }
}

}  // namespace chat
