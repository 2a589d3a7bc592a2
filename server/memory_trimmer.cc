#include "server/memory_trimmer.h"

#include <malloc.h>

#include <chrono>
#include <cstddef>

namespace chat {

MemoryTrimmer::MemoryTrimmer() : thread_([this] { Run(); }) {}

MemoryTrimmer::~MemoryTrimmer() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  stop_requested_.notify_one();
  thread_.join();
}

void MemoryTrimmer::Run() {
  // Trim when at least 16 MiB and an eighth of the heap are free: after a
  // burst, not in the small ups and downs of normal traffic.
  constexpr std::size_t kMinFreeBytes = std::size_t{16} << 20;
  std::unique_lock<std::mutex> lock(mu_);
  while (!stop_requested_.wait_for(lock, std::chrono::seconds(1), [this] { return stopping_; })) {
    const struct mallinfo2 info = mallinfo2();
    if (info.fordblks > kMinFreeBytes && info.fordblks > info.arena / 8) malloc_trim(0);
  }
}

}  // namespace chat
