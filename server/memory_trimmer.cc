#include "server/memory_trimmer.h"

#include <malloc.h>
#include <spdlog/spdlog.h>

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
  // Trim when at least 4 MiB more than after the last trim, and a sixteenth
  // of the heap, are free: after a burst, not in the ups and downs of normal
  // traffic. (Free memory that trimming cannot return, in partly used pages,
  // stays free: the margin keeps it from triggering a trim every second.)
  constexpr std::size_t kMinNewlyFreeBytes = std::size_t{4} << 20;
  std::size_t free_after_last_trim = 0;
  std::unique_lock<std::mutex> lock(mu_);
  while (!stop_requested_.wait_for(lock, std::chrono::seconds(1), [this] { return stopping_; })) {
    const struct mallinfo2 info = mallinfo2();
    if (info.fordblks > free_after_last_trim + kMinNewlyFreeBytes &&
        info.fordblks > info.arena / 16) {
      const auto start = std::chrono::steady_clock::now();
      malloc_trim(0);
      free_after_last_trim = mallinfo2().fordblks;
      spdlog::debug("malloc_trim: free heap {} -> {} KiB in {} us", info.fordblks >> 10,
                    free_after_last_trim >> 10,
                    std::chrono::duration_cast<std::chrono::microseconds>(
                        std::chrono::steady_clock::now() - start)
                        .count());
    } else if (info.fordblks < free_after_last_trim) {
      free_after_last_trim = info.fordblks;  // reused since: measure growth from here
    }
  }
}

}  // namespace chat
