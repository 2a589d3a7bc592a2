#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <queue>
#include <thread>
#include <vector>

#include "server/subscriber.h"

namespace chat {

// Holds back a stream's next write for a moment after its last one (the
// "linger" of Nagle's algorithm or Kafka's linger.ms), so that the messages
// arriving meanwhile leave together in one batch frame. A gRPC write costs
// about the same for one message as for forty, and at high per-stream rates
// writes are most of the server's CPU: lingering trades a bounded delay for
// fewer writes. A stream that has not written for a whole linger writes at
// once, so chat at human pace sees no delay at all.
//
// One thread for the whole server: it calls Flush() on the streams whose
// time has come. Entries due within a quarter of the linger are served in the
// same wake-up, so a room's members (who wrote at nearly the same moment)
// cost one wake-up, not one each.
class WriteLinger {
 public:
  using Clock = std::chrono::steady_clock;

  explicit WriteLinger(std::chrono::microseconds linger);
  ~WriteLinger();  // Stop()
  WriteLinger(const WriteLinger&) = delete;
  WriteLinger& operator=(const WriteLinger&) = delete;

  // When a stream that started its last write at `last_write` may start the
  // next one: nullopt for "now", else the time to hand to Hold.
  std::optional<Clock::time_point> HoldUntil(Clock::time_point last_write,
                                             Clock::time_point now) const;

  // Takes a reference on `subscriber` and, at `due` (or a little before, see
  // the class comment), calls its Flush() and then Unref(). Returns false,
  // holding nothing, once stopped: then the caller writes at once. Never
  // calls into `subscriber` itself, so the caller may hold its own locks.
  bool Hold(Subscriber* subscriber, Clock::time_point due);

  // Flushes everything still held and ends the thread. Idempotent. Call
  // after the server has stopped, so no stream is left waiting on a thread
  // that is gone.
  void Stop();

 private:
  struct Entry {
    Clock::time_point due;
    Subscriber* subscriber;
    bool operator>(const Entry& other) const { return due > other.due; }
  };

  void Run();
  static void FlushAll(std::vector<Entry>& entries);

  const std::chrono::microseconds linger_;
  const std::chrono::microseconds early_;  // linger_ / 4: see the class comment

  // std::mutex rather than chat::Mutex: the condition variable needs it.
  std::mutex mu_;
  std::condition_variable wake_;  // waited on with mu_ held
  std::priority_queue<Entry, std::vector<Entry>, std::greater<>> waiting_;  // guarded by mu_
  bool stopping_ = false;                                                   // guarded by mu_
  std::thread thread_;  // started in the constructor, joined by Stop()
};

}  // namespace chat
