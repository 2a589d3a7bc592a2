#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <span>

namespace chat {

// A histogram of whole numbers (counts, bytes, nanoseconds) with fixed upper
// bounds, bumped with relaxed atomics: Observe never takes a lock, so it may
// sit on the delivery path (prometheus::Histogram::Observe takes a mutex).
// Buckets are not cumulative here; the exposer sums them at scrape time.
class AtomicHistogram {
 public:
  static constexpr std::size_t kMaxBounds = 24;
  // `bounds`: ascending upper bounds, at most kMaxBounds; must outlive this.
  explicit AtomicHistogram(std::span<const std::uint64_t> bounds) : bounds_(bounds) {}

  void Observe(std::uint64_t value) {
    std::size_t i = 0;
    while (i < bounds_.size() && value > bounds_[i]) ++i;
    counts_[i].fetch_add(1, std::memory_order_relaxed);
    sum_.fetch_add(value, std::memory_order_relaxed);
  }
  std::span<const std::uint64_t> bounds() const { return bounds_; }
  // Observations in bucket i (i == bounds().size(): above the last bound).
  std::uint64_t count(std::size_t i) const { return counts_[i].load(std::memory_order_relaxed); }
  std::uint64_t sum() const { return sum_.load(std::memory_order_relaxed); }

 private:
  const std::span<const std::uint64_t> bounds_;
  std::array<std::atomic<std::uint64_t>, kMaxBounds + 1> counts_{};
  std::atomic<std::uint64_t> sum_{0};
};

// Why the hub did not accept a line (the `reason` label of
// chat_messages_refused_total).
enum class Refusal : std::size_t {
  kRateLimit,      // over the sender's flood limit
  kTooLong,        // over --max-message-bytes
  kInvalid,        // not printable UTF-8, a bad client_msg_id, a bad command
  kPermission,     // a room or a rename the sender's token does not allow
  kNoRecipient,    // a private message to nobody online
  kRecipientBusy,  // a private message to a full private inbox
  kCount
};

// The counters the server bumps as it works: relaxed atomics only, so no
// counter costs a lock on the delivery path. One per ChatServer (not a
// global), so that servers in one process count apart. Thread-safe.
class ServerMetrics {
 public:
  void Accepted() { Bump(accepted_); }
  void Refused(Refusal why) { Bump(refused_[static_cast<std::size_t>(why)]); }
  void Delivered() { Bump(deliveries_); }
  void SlowConsumerCut() { Bump(slow_consumers_cut_); }
  void StreamStarted() { Bump(streams_started_); }
  void StreamDone() { Bump(streams_done_); }

  AtomicHistogram queue_depth{kQueueDepthBounds};      // messages waiting, at each enqueue
  AtomicHistogram queued_bytes{kQueuedBytesBounds};    // bytes waiting, at each enqueue
  AtomicHistogram send_to_write_ns{kLatencyBoundsNs};  // hub accept -> StartWrite

  std::uint64_t accepted() const { return Read(accepted_); }
  std::uint64_t refused(Refusal why) const { return Read(refused_[static_cast<std::size_t>(why)]); }
  std::uint64_t deliveries() const { return Read(deliveries_); }
  std::uint64_t slow_consumers_cut() const { return Read(slow_consumers_cut_); }
  std::uint64_t streams_open() const { return Read(streams_started_) - Read(streams_done_); }

  // Powers of two up to 2^16 messages (past the default --queue-limit).
  static constexpr std::array<std::uint64_t, 17> kQueueDepthBounds = {
      1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768, 65536};
  // Powers of four from 64 B to 16 MiB (past the default --queue-bytes).
  static constexpr std::array<std::uint64_t, 10> kQueuedBytesBounds = {
      64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216};
  // 10 us to 10 s: the linger (1 ms) and the p99 target (2 ms) fall inside.
  static constexpr std::array<std::uint64_t, 13> kLatencyBoundsNs = {
      10'000,    25'000,    50'000,     100'000,     250'000,       500'000,       1'000'000,
      2'500'000, 5'000'000, 10'000'000, 100'000'000, 1'000'000'000, 10'000'000'000};

 private:
  static void Bump(std::atomic<std::uint64_t>& counter) {
    counter.fetch_add(1, std::memory_order_relaxed);
  }
  static std::uint64_t Read(const std::atomic<std::uint64_t>& counter) {
    return counter.load(std::memory_order_relaxed);
  }

  std::atomic<std::uint64_t> accepted_{0};
  std::array<std::atomic<std::uint64_t>, static_cast<std::size_t>(Refusal::kCount)> refused_{};
  std::atomic<std::uint64_t> deliveries_{0};
  std::atomic<std::uint64_t> slow_consumers_cut_{0};
  std::atomic<std::uint64_t> streams_started_{0};
  std::atomic<std::uint64_t> streams_done_{0};
};

}  // namespace chat
