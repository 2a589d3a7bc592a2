#include "server/write_linger.h"

#include <optional>

namespace chat {

WriteLinger::WriteLinger(std::chrono::microseconds linger)
    : linger_(linger), early_(linger / 4), thread_([this] { Run(); }) {}

WriteLinger::~WriteLinger() { Stop(); }

std::optional<WriteLinger::Clock::time_point> WriteLinger::HoldUntil(Clock::time_point last_write,
                                                                     Clock::time_point now) const {
  const Clock::time_point due = last_write + linger_;
  // Held only when the linger thread would not serve it at once: it serves
  // entries up to early_ before they are due.
  if (now + early_ >= due) return std::nullopt;
  return due;
}

bool WriteLinger::Hold(Subscriber* subscriber, Clock::time_point due) {
  std::lock_guard<std::mutex> lock(mu_);
  if (stopping_) return false;
  subscriber->Ref();
  const bool earliest = waiting_.empty() || due < waiting_.top().due;
  waiting_.push({due, subscriber});
  if (earliest) wake_.notify_one();
  return true;
}

void WriteLinger::Stop() {
  std::vector<Entry> left;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return;
    stopping_ = true;
    wake_.notify_one();
  }
  thread_.join();
  {
    std::lock_guard<std::mutex> lock(mu_);
    while (!waiting_.empty()) {
      left.push_back(waiting_.top());
      waiting_.pop();
    }
  }
  FlushAll(left);
}

void WriteLinger::Run() {
  std::vector<Entry> due_now;
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    if (waiting_.empty()) {
      wake_.wait(lock);
      continue;
    }
    const Clock::time_point now = Clock::now();
    if (waiting_.top().due > now + early_) {
      wake_.wait_until(lock, waiting_.top().due - early_);
      continue;
    }
    while (!waiting_.empty() && waiting_.top().due <= now + early_) {
      due_now.push_back(waiting_.top());
      waiting_.pop();
    }
    // Flush starts writes (system calls): never under our mutex, so
    // FlushAt from other threads is not held up.
    lock.unlock();
    FlushAll(due_now);
    lock.lock();
  }
}

void WriteLinger::FlushAll(std::vector<Entry>& entries) {
  for (const Entry& entry : entries) {
    entry.subscriber->Flush();
    entry.subscriber->Unref();
  }
  entries.clear();
}

}  // namespace chat
