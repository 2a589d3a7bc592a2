#pragma once

#include <cstdint>

#include "server/periodic_task.h"

namespace chat {

// Hands memory that glibc keeps after a burst back to the kernel. A JOIN
// storm (every join is broadcast to the room) or a history replay allocates
// and frees a lot at once; glibc keeps the freed pages in its arenas, which
// measured 5-7 KiB per stream with 10,000 streams (docs/benchmarks.md). Once
// a second it compares resident memory with what malloc has in use and calls
// malloc_trim(0) when the difference grew by 4 MiB since the last trim, so a
// steady server pays one mallinfo2() and one /proc read a second. A trim
// locks each glibc arena in turn while it works (logged at debug level with
// its duration).
class MemoryTrimmer {
 public:
  MemoryTrimmer();
  ~MemoryTrimmer();  // stops the thread at once
  MemoryTrimmer(const MemoryTrimmer&) = delete;
  MemoryTrimmer& operator=(const MemoryTrimmer&) = delete;

 private:
  void TrimIfGrown();  // once a second, on the task's thread

  std::int64_t slack_after_last_trim_;  // only touched by TrimIfGrown (and the constructor)
  PeriodicTask task_;                   // last: runs once the rest is set up
};

}  // namespace chat
