#pragma once

#include <atomic>
#include <cstddef>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "common/mutex.h"
#include "common/refusal_log.h"

namespace chat {

// Bounds the Chat streams open at once from one client address (IP, port
// apart): with authentication off anyone may listen as a reader, and
// --max-streams-per-connection times the connections one address may open
// is far more than one address needs. Thread-safe.
class PeerStreamLimit {
 public:
  // A stream's place in the count; given back when destroyed.
  class Slot {
   public:
    Slot() = default;
    Slot(Slot&& other) noexcept
        : limit_(std::exchange(other.limit_, nullptr)), address_(std::move(other.address_)) {}
    Slot& operator=(Slot&& other) noexcept {
      if (this != &other) {
        Give();
        limit_ = std::exchange(other.limit_, nullptr);
        address_ = std::move(other.address_);
      }
      return *this;
    }
    ~Slot() { Give(); }
    explicit operator bool() const { return limit_ != nullptr; }

   private:
    friend class PeerStreamLimit;
    Slot(PeerStreamLimit* limit, std::string address)
        : limit_(limit), address_(std::move(address)) {}
    void Give() {
      if (limit_ != nullptr) limit_->Release(address_);
      limit_ = nullptr;
    }
    PeerStreamLimit* limit_ = nullptr;
    std::string address_;
  };

  // At most `per_address` streams from one address; 0 = no limit.
  explicit PeerStreamLimit(std::size_t per_address) : per_address_(per_address) {}

  // A slot for a stream from `peer` (gRPC's "ipv4:1.2.3.4:5678" form), or an
  // empty one when that address has `per_address` streams open already (the
  // refusal is counted and logged, throttled). Must outlive its slots.
  Slot Acquire(std::string_view peer);

  std::size_t per_address() const { return per_address_.load(std::memory_order_relaxed); }
  // A new limit (SIGHUP), for streams that start from now on; streams
  // already open over it stay.
  void set_per_address(std::size_t per_address) {
    per_address_.store(per_address, std::memory_order_relaxed);
  }
  RefusalLog& refusals() const { return refusals_; }

  // The address part of a gRPC peer string: "ipv4:1.2.3.4:5678" -> "1.2.3.4",
  // "ipv6:[::1]:5678" -> "::1"; anything else whole.
  static std::string Address(std::string_view peer);

 private:
  void Release(const std::string& address);

  std::atomic<std::size_t> per_address_;
  Mutex mu_;
  std::unordered_map<std::string, std::size_t> open_ ABSL_GUARDED_BY(mu_);
  mutable RefusalLog refusals_;
};

}  // namespace chat
