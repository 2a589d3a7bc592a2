#include "server/memory_trimmer.h"

#include <malloc.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <fstream>

namespace chat {
namespace {

// Resident memory of this process, from /proc/self/statm (0 if unreadable).
std::int64_t ResidentBytes() {
  std::ifstream statm("/proc/self/statm");
  std::int64_t size_pages = 0;
  std::int64_t resident_pages = 0;
  if (!(statm >> size_pages >> resident_pages)) return 0;
  return resident_pages * static_cast<std::int64_t>(sysconf(_SC_PAGESIZE));
}

// Resident memory that malloc does not have in use: mostly free pages glibc
// keeps (plus code, stacks and the like, which change little). mallinfo2's
// free-bytes figure cannot tell this: a trim hands pages back but leaves
// the chunks free, so that figure hardly moves.
std::int64_t ResidentSlack() {
  const struct mallinfo2 info = mallinfo2();
  return ResidentBytes() - static_cast<std::int64_t>(info.uordblks + info.hblkhd);
}

}  // namespace

MemoryTrimmer::MemoryTrimmer()
    : slack_after_last_trim_(ResidentSlack()),
      task_(std::chrono::seconds(1), [this] { TrimIfGrown(); }) {}

MemoryTrimmer::~MemoryTrimmer() = default;  // the task stops first (declared last)

void MemoryTrimmer::TrimIfGrown() {
  // Trim when resident-but-unused memory grew by 4 MiB since the last trim:
  // after a burst, not in the ups and downs of normal traffic.
  constexpr std::int64_t kMinGrowthBytes = std::int64_t{4} << 20;
  const std::int64_t slack = ResidentSlack();
  if (slack > slack_after_last_trim_ + kMinGrowthBytes) {
    const auto start = std::chrono::steady_clock::now();
    malloc_trim(0);
    slack_after_last_trim_ = ResidentSlack();
    spdlog::debug("malloc_trim: resident but unused {} -> {} KiB in {} us", slack >> 10,
                  slack_after_last_trim_ >> 10,
                  std::chrono::duration_cast<std::chrono::microseconds>(
                      std::chrono::steady_clock::now() - start)
                      .count());
  } else if (slack < slack_after_last_trim_) {
    slack_after_last_trim_ = slack;  // pages reused since: measure growth from here
  }
}

}  // namespace chat
