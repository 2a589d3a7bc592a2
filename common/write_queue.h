#pragma once

#include <cstddef>
#include <deque>
#include <utility>

namespace chat {

// A bounded FIFO of outgoing messages for one gRPC stream, with an explicit
// "write in flight" flag: gRPC allows one write per stream at a time, and the
// message being written must stay alive and unchanged until the write
// completes, so the front item stays put until WriteDone().
//
// Not thread-safe: the owner guards it with its own mutex.
template <typename T>
class WriteQueue {
 public:
  enum class PushResult {
    kStartWrite,  // queued at the front with nothing in flight: start writing front()
    kQueued,      // queued behind a write in flight; WriteDone() will reach it
    kFull,        // the bound is reached; nothing was queued
  };

  // bound: most items held at once, the one in flight included; 0 = unbounded.
  explicit WriteQueue(std::size_t bound = 0) : bound_(bound) {}

  PushResult Push(T item) {
    if (bound_ != 0 && items_.size() >= bound_) return PushResult::kFull;
    items_.push_back(std::move(item));
    if (in_flight_) return PushResult::kQueued;
    in_flight_ = true;
    return PushResult::kStartWrite;
  }

  // The item being written. Only valid while write_in_flight().
  const T& front() const { return items_.front(); }

  // Marks the in-flight write complete and drops its item. Returns true when
  // another item is waiting: it is now front() and in flight.
  bool WriteDone() {
    if (!in_flight_) return false;
    items_.pop_front();
    in_flight_ = !items_.empty();
    return in_flight_;
  }

  // Drops every item that is not in flight.
  void DropWaiting() {
    if (items_.empty()) return;
    if (!in_flight_) {
      items_.clear();
      return;
    }
    items_.erase(items_.begin() + 1, items_.end());
  }

  bool write_in_flight() const { return in_flight_; }
  std::size_t size() const { return items_.size(); }
  bool empty() const { return items_.empty(); }
  std::size_t bound() const { return bound_; }

 private:
  std::size_t bound_;
  std::deque<T> items_;
  bool in_flight_ = false;
};

}  // namespace chat
