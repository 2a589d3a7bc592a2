#include "server/periodic_task.h"

namespace chat {

PeriodicTask::PeriodicTask(std::chrono::milliseconds interval, std::function<void()> task)
    : interval_(interval), task_(std::move(task)), thread_([this] { Run(); }) {}

PeriodicTask::~PeriodicTask() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  stop_requested_.notify_one();
  thread_.join();
}

void PeriodicTask::Run() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stop_requested_.wait_for(lock, interval_, [this] { return stopping_; })) {
    lock.unlock();
    task_();
    lock.lock();
  }
}

}  // namespace chat
