#pragma once

#include <algorithm>
#include <cstddef>
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
    if (waiting_count_ == waiting_.size()) Grow();
    waiting_[Slot(waiting_count_)] = std::move(item);
    ++waiting_count_;
    return in_flight_ ? PushResult::kQueued : PushResult::kStartWrite;
  }

  // Moves up to `max_items` waiting items (at least one) into flight and
  // returns them. Only call when nothing is in flight and something waits.
  const std::vector<T>& TakeBatch(std::size_t max_items = 1) {
    return TakeBatch(max_items, 0, [](const T&) { return std::size_t{0}; });
  }

  // The same, also stopping before the items' total size_of() would pass
  // `max_bytes` (the first item is always taken, whatever its size).
  template <typename SizeOf>
  const std::vector<T>& TakeBatch(std::size_t max_items, std::size_t max_bytes, SizeOf size_of) {
    std::size_t n = std::min(std::max<std::size_t>(max_items, 1), waiting_count_);
    if (max_bytes > 0) {
      std::size_t bytes = size_of(waiting_[waiting_head_]);
      for (std::size_t i = 1; i < n; ++i) {
        bytes += size_of(waiting_[Slot(i)]);
        if (bytes > max_bytes) {
          n = i;
          break;
        }
      }
    }
    for (std::size_t i = 0; i < n; ++i) {
      flying_.push_back(std::move(waiting_[waiting_head_]));
      waiting_[waiting_head_] = T();
      waiting_head_ = Slot(1);
      --waiting_count_;
    }
    if (waiting_count_ == 0) waiting_head_ = 0;
    ReleaseIfLarge(waiting_, waiting_count_);
    in_flight_ = true;
    return flying_;
  }

  // The write completed: drops the items in flight. Returns true when more
  // items wait (the caller takes the next batch).
  bool WriteDone() {
    flying_.clear();
    ReleaseIfLarge(flying_, 0);
    in_flight_ = false;
    return waiting_count_ != 0;
  }

  // Drops every item that is not in flight.
  void DropWaiting() {
    std::vector<T>().swap(waiting_);
    waiting_head_ = waiting_count_ = 0;
  }

  bool write_in_flight() const { return in_flight_; }
  std::size_t waiting() const { return waiting_count_; }
  std::size_t size() const { return waiting_count_ + flying_.size(); }
  bool empty() const { return size() == 0; }
  std::size_t bound() const { return bound_; }

 private:
  // Memory: thousands of mostly idle queues live at once, so an empty queue
  // keeps at most kKeptCapacity slots (a std::deque keeps a 512-byte block
  // and its map forever, and a vector its largest capacity).
  static constexpr std::size_t kKeptCapacity = 8;

  static void ReleaseIfLarge(std::vector<T>& items, std::size_t used) {
    if (used == 0 && items.capacity() > kKeptCapacity) std::vector<T>().swap(items);
  }

  // The ring slot `offset` places after the oldest waiting item.
  std::size_t Slot(std::size_t offset) const {
    const std::size_t slot = waiting_head_ + offset;
    return slot < waiting_.size() ? slot : slot - waiting_.size();
  }

  // Doubles the ring (at least 4 slots), unrolling it so the oldest item is first.
  void Grow() {
    std::vector<T> bigger(std::max<std::size_t>(4, 2 * waiting_.size()));
    for (std::size_t i = 0; i < waiting_count_; ++i) {
      bigger[i] = std::move(waiting_[Slot(i)]);
    }
    waiting_.swap(bigger);
    waiting_head_ = 0;
  }

  std::size_t bound_;
  // Waiting items: a ring in waiting_ (all slots constructed; empty ones hold T()).
  std::vector<T> waiting_;
  std::size_t waiting_head_ = 0;
  std::size_t waiting_count_ = 0;
  std::vector<T> flying_;
  bool in_flight_ = false;
};

}  // namespace chat
