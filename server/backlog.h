#pragma once

#include <algorithm>
#include <cstddef>

#include "server/envelope.h"

namespace chat {

// What one stream's write queue holds for its client, measured the way the
// slow-consumer cut and room back-pressure need it (docs/architecture.md,
// "Overload"):
// - live messages (everything but replayed history) by count and by bytes:
//   the limits a client must keep under, or be cut off as too slow;
// - replayed history apart: a join's burst never counts against the
//   newcomer, only against a separate allowance that stops /join loops from
//   piling up history without bound;
// - a high and a low watermark on the live backlog, with hysteresis: a stream
//   is "backlogged" from the moment it reaches the high one until it drains
//   to the low one. The hub counts a room's backlogged members to tell a room
//   the server cannot keep up with from one slow reader.
//
// Not thread-safe: the reactor guards it with its own mutex, beside its
// WriteQueue, and tells it about every push, batch taken, write done and drop.
class Backlog {
 public:
  struct Limits {
    std::size_t messages = 1024;  // live messages at most (in flight included)
    std::size_t bytes = 1 << 20;  // live bytes at most (in flight included)
    // Replayed history messages queued at once, at most (a join sends at
    // most the history, so this is the history length plus room to spare).
    std::size_t replay_messages = 1024;
  };

  explicit Backlog(Limits limits)
      : limits_(limits),
        high_messages_(std::max<std::size_t>(2, limits.messages / kWatermarkDivisor)),
        high_bytes_(std::max<std::size_t>(1, limits.bytes / kWatermarkDivisor)) {}

  // A live backlog of 1/8 of a limit makes a stream backlogged, and draining
  // to half of that (1/16) ends it: far below the cut, so a room held back
  // for its majority never brings a reader that keeps up near the limit.
  static constexpr std::size_t kWatermarkDivisor = 8;

  // Whether `envelope` may join the queue without passing a limit.
  bool Fits(const Envelope& envelope) const {
    if (IsReplay(envelope)) return replay_.messages + 1 <= limits_.replay_messages;
    return live_.messages + 1 <= limits_.messages &&
           live_.bytes + envelope.bytes.size() <= limits_.bytes;
  }

  void Pushed(const Envelope& envelope) {
    Count& count = IsReplay(envelope) ? replay_ : live_;
    ++count.messages;
    count.bytes += envelope.bytes.size();
    if (live_.messages >= high_messages_ || live_.bytes >= high_bytes_) backlogged_ = true;
  }

  // These messages (the oldest queued) are now in flight.
  template <typename Batch>
  void Taken(const Batch& batch) {
    for (const EnvelopePtr& envelope : batch) {
      Count& count = IsReplay(*envelope) ? replay_flying_ : live_flying_;
      ++count.messages;
      count.bytes += envelope->bytes.size();
    }
  }

  // The write in flight is done. Returns true if that ended the backlog.
  bool WriteDone() {
    live_ -= live_flying_;
    replay_ -= replay_flying_;
    live_flying_ = replay_flying_ = {};
    return Drain();
  }

  // Everything not in flight was dropped. Returns true if that ended the backlog.
  bool DroppedWaiting() {
    live_ = live_flying_;
    replay_ = replay_flying_;
    return Drain();
  }

  bool backlogged() const { return backlogged_; }
  std::size_t live_messages() const { return live_.messages; }
  std::size_t live_bytes() const { return live_.bytes; }
  std::size_t high_messages() const { return high_messages_; }
  std::size_t high_bytes() const { return high_bytes_; }

 private:
  struct Count {
    std::size_t messages = 0;
    std::size_t bytes = 0;
    Count& operator-=(const Count& other) {
      messages -= other.messages;
      bytes -= other.bytes;
      return *this;
    }
  };

  static bool IsReplay(const Envelope& envelope) { return envelope.message.replay(); }

  bool Drain() {
    if (!backlogged_ || live_.messages > high_messages_ / 2 || live_.bytes > high_bytes_ / 2) {
      return false;
    }
    backlogged_ = false;
    return true;
  }

  const Limits limits_;
  const std::size_t high_messages_;
  const std::size_t high_bytes_;
  Count live_;           // queued live messages, in flight included
  Count replay_;         // queued history, in flight included
  Count live_flying_;    // the part of live_ in flight
  Count replay_flying_;  // the part of replay_ in flight
  bool backlogged_ = false;
};

}  // namespace chat
