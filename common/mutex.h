#pragma once

#include <absl/base/thread_annotations.h>

#include <chrono>
#include <condition_variable>
#include <mutex>

namespace chat {

// A std::mutex that clang's -Wthread-safety understands (ABSL_GUARDED_BY and
// friends work with it). std::mutex rather than absl::Mutex because
// ThreadSanitizer sees pthread mutexes but not Debian's uninstrumented
// abseil, and because absl::Mutex's deadlock detection costs time on the
// fan-out path. The one mutex type for shared state in this project: the
// clang build (-Werror=thread-safety) checks every field guarded by one.
class ABSL_LOCKABLE Mutex {
 public:
  // constexpr, so that a `constinit Mutex` works at any time of the
  // process's life (AcceptGuard's, which close() may take before main).
  constexpr Mutex() = default;
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;

  void Lock() ABSL_EXCLUSIVE_LOCK_FUNCTION() { mu_.lock(); }
  void Unlock() ABSL_UNLOCK_FUNCTION() { mu_.unlock(); }

 private:
  friend class CondVar;
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

// A condition variable for chat::Mutex. The caller holds the mutex; every
// wait takes a predicate (so a spurious or stale wake-up cannot end it) and
// returns with the mutex held again. A predicate that reads guarded fields
// says so, for the analysis checks lambdas on their own:
//   cv.Wait(&mu_, [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return done_; });
class CondVar {
 public:
  // Until `pred()` holds.
  template <typename Pred>
  void Wait(Mutex* mu, Pred pred) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    Adopted lock(mu);
    cv_.wait(lock.lock, std::move(pred));
  }

  // Until `pred()` holds or `timeout` has passed; returns pred().
  template <typename Rep, typename Period, typename Pred>
  bool WaitFor(Mutex* mu, std::chrono::duration<Rep, Period> timeout, Pred pred)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    Adopted lock(mu);
    return cv_.wait_for(lock.lock, timeout, std::move(pred));
  }

  // Until `pred()` holds or the clock reaches `deadline`; returns pred().
  template <typename Clock, typename Duration, typename Pred>
  bool WaitUntil(Mutex* mu, std::chrono::time_point<Clock, Duration> deadline, Pred pred)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    Adopted lock(mu);
    return cv_.wait_until(lock.lock, deadline, std::move(pred));
  }

  void Signal() { cv_.notify_one(); }
  void SignalAll() { cv_.notify_all(); }

 private:
  // The caller's hold on the mutex, lent to std::condition_variable for the
  // wait and handed back (still held) at the end.
  struct Adopted {
    explicit Adopted(Mutex* mu) : lock(mu->mu_, std::adopt_lock) {}
    ~Adopted() { lock.release(); }
    std::unique_lock<std::mutex> lock;
  };

  std::condition_variable cv_;
};

}  // namespace chat
