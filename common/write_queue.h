#pragma once

#include <algorithm>
#include <cstddef>
#include <deque>
#include <utility>
#include <vector>

namespace chat {

// A bounded FIFO of outgoing messages for one gRPC stream, with an explicit
// "write in flight" state: gRPC allows one write per stream at a time, and
// what is being written must stay alive and unchanged until the write
// completes, so the items in flight stay here until WriteDone().
//
// A write may carry one item or a batch of them (a server frame that packs
// several chat messages). The bound counts waiting and in-flight items.
//
// Not thread-safe: the owner guards it with its own mutex.
template <typename T>
class WriteQueue {
 public:
  enum class PushResult {
    kStartWrite,  // nothing is in flight: call TakeBatch() and start a write
    kQueued,      // a write is in flight; WriteDone() will reach this item
    kFull,        // the bound is reached; nothing was queued
  };

  // bound: most items held at once, in flight included; 0 = unbounded.
  explicit WriteQueue(std::size_t bound = 0) : bound_(bound) {}

  PushResult Push(T item) {
    if (bound_ != 0 && size() >= bound_) return PushResult::kFull;
    waiting_.push_back(std::move(item));
    return in_flight_ ? PushResult::kQueued : PushResult::kStartWrite;
  }

  // Moves up to `max_items` waiting items (at least one) into flight and
  // returns them. Only call when nothing is in flight and something waits.
  const std::vector<T>& TakeBatch(std::size_t max_items = 1) {
    const std::size_t n = std::min(std::max<std::size_t>(max_items, 1), waiting_.size());
    for (std::size_t i = 0; i < n; ++i) {
      flying_.push_back(std::move(waiting_.front()));
      waiting_.pop_front();
    }
    in_flight_ = true;
    return flying_;
  }

  // The write completed: drops the items in flight. Returns true when more
  // items wait (the caller takes the next batch).
  bool WriteDone() {
    flying_.clear();
    in_flight_ = false;
    return !waiting_.empty();
  }

  // Drops every item that is not in flight.
  void DropWaiting() { waiting_.clear(); }

  bool write_in_flight() const { return in_flight_; }
  std::size_t waiting() const { return waiting_.size(); }
  std::size_t size() const { return waiting_.size() + flying_.size(); }
  bool empty() const { return size() == 0; }
  std::size_t bound() const { return bound_; }

 private:
  std::size_t bound_;
  std::deque<T> waiting_;
  std::vector<T> flying_;
  bool in_flight_ = false;
};

}  // namespace chat
