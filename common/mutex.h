#pragma once

#include <absl/base/thread_annotations.h>

#include <mutex>

namespace chat {

// A std::mutex that clang's -Wthread-safety understands (ABSL_GUARDED_BY and
// friends work with it). std::mutex rather than absl::Mutex because
// ThreadSanitizer sees pthread mutexes but not Debian's uninstrumented
// abseil, and because absl::Mutex's deadlock detection costs time on the
// fan-out path.
class ABSL_LOCKABLE Mutex {
 public:
  void Lock() ABSL_EXCLUSIVE_LOCK_FUNCTION() { mu_.lock(); }
  void Unlock() ABSL_UNLOCK_FUNCTION() { mu_.unlock(); }

 private:
  std::mutex mu_;
};

// Holds a Mutex for the scope.
class ABSL_SCOPED_LOCKABLE MutexLock {
 public:
  explicit MutexLock(Mutex* mu) ABSL_EXCLUSIVE_LOCK_FUNCTION(mu) : mu_(mu) { mu_->Lock(); }
  ~MutexLock() ABSL_UNLOCK_FUNCTION() { mu_->Unlock(); }
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

 private:
  Mutex* const mu_;
};

}  // namespace chat
