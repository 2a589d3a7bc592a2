// fanout_bench: measures a running chat-server's fan-out on loopback.
//
// S subscriber streams and P publisher streams join fresh rooms (named after
// this run, so no history is replayed) through the chat-user / chat-room
// metadata. Once every subscriber has seen its own JOIN event, and the JOIN of
// every publisher of its room (in a big room: the PRESENCE event naming it,
// up to the server's --presence-interval-ms later), the publishers send chat
// lines at a set total rate (or flat out, with a bounded number of lines each
// that not every subscriber has received yet) for --duration seconds. Each line carries its
// publisher, its number and its send time in the text ("p3 n1234 t987654321
// xxxx"), so every subscriber measures send-to-delivery latency and checks
// order, and the server's per-room seq shows gaps.
//
// It reports deliveries per second, latency percentiles, lost and reordered
// messages, and, given --server-pid, the server's CPU time per delivery
// (/proc/PID/stat utime+stime) and its memory per stream (RSS growth from
// before connecting to after everyone joined).
//
// Streams are callback-API reactors (no thread per stream). By default each
// has its own channel (its own TCP connection), as real users do; with
// --streams-per-channel N they share connections (HTTP/2 multiplexing), so
// 10,000 idle subscribers can need about 100 file descriptors instead. The run
// ends by itself: join timeout, duration, drain timeout, then every stream is
// cancelled.
//
// Not a test: built with the project, never run by ctest. See docs/benchmarks.md.
#include <absl/synchronization/mutex.h>
#include <grpcpp/grpcpp.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <bit>
#include <charconv>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cxxopts.hpp>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "chat.grpc.pb.h"
#include "common/protocol_keys.h"

namespace {

using Clock = std::chrono::steady_clock;
using chat::ChatMessage;

constexpr std::string_view kBatchHeader = "chat-batch";  // "1": the server may send `batch` frames

std::int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch())
      .count();
}

double Seconds(std::int64_t ns) { return static_cast<double>(ns) / 1e9; }

std::string Fixed(double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

// A lock-free log-linear histogram of nanoseconds: exact below 128, then 64
// steps per power of two (at most 1.6% too high when reading a quantile).
class Histogram {
 public:
  void Record(std::uint64_t value) {
    counts_[Index(value)].fetch_add(1, std::memory_order_relaxed);
    std::uint64_t max = max_.load(std::memory_order_relaxed);
    while (value > max && !max_.compare_exchange_weak(max, value, std::memory_order_relaxed)) {
    }
  }

  std::uint64_t Count() const {
    std::uint64_t total = 0;
    for (const auto& c : counts_) total += c.load(std::memory_order_relaxed);
    return total;
  }

  // The upper edge of the bucket holding quantile q (0..1), capped at the max.
  std::uint64_t Quantile(double q) const {
    const std::uint64_t total = Count();
    if (total == 0) return 0;
    const auto rank = static_cast<std::uint64_t>(std::ceil(q * static_cast<double>(total)));
    std::uint64_t seen = 0;
    for (int i = 0; i < kBuckets; ++i) {
      seen += counts_[i].load(std::memory_order_relaxed);
      if (seen >= std::max<std::uint64_t>(rank, 1)) return std::min(UpperEdge(i), Max());
    }
    return Max();
  }

  std::uint64_t Max() const { return max_.load(std::memory_order_relaxed); }

 private:
  static constexpr int kBuckets = 128 + 57 * 64;

  static int Index(std::uint64_t v) {
    if (v < 128) return static_cast<int>(v);
    const int exponent = 63 - std::countl_zero(v);       // 7..63
    const std::uint64_t mantissa = v >> (exponent - 6);  // 64..127
    return 128 + (exponent - 7) * 64 + static_cast<int>(mantissa - 64);
  }

  static std::uint64_t UpperEdge(int index) {
    if (index < 128) return static_cast<std::uint64_t>(index);
    const int exponent = (index - 128) / 64 + 7;
    const std::uint64_t mantissa = static_cast<std::uint64_t>((index - 128) % 64 + 64);
    return ((mantissa + 1) << (exponent - 6)) - 1;
  }

  std::array<std::atomic<std::uint64_t>, kBuckets> counts_{};
  std::atomic<std::uint64_t> max_{0};
};

// What a publisher writes into each line, and reads back.
struct Stamp {
  int publisher = 0;
  std::int64_t number = 0;   // 0, 1, 2, ... per publisher
  std::int64_t sent_ns = 0;  // steady clock, this process
};

std::string FormatStamp(const Stamp& stamp, std::size_t bytes) {
  std::string text = "p" + std::to_string(stamp.publisher) + " n" + std::to_string(stamp.number) +
                     " t" + std::to_string(stamp.sent_ns) + " ";
  if (text.size() < bytes) text.append(bytes - text.size(), 'x');
  return text;
}

std::optional<Stamp> ParseStamp(std::string_view text) {
  Stamp stamp;
  const char* p = text.data();
  const char* end = text.data() + text.size();
  auto field = [&](char tag, auto& value) {
    if (p == end || *p != tag) return false;
    const auto [next, error] = std::from_chars(p + 1, end, value);
    if (error != std::errc()) return false;
    p = next;
    if (p != end && *p == ' ') ++p;
    return true;
  };
  if (!field('p', stamp.publisher) || !field('n', stamp.number) || !field('t', stamp.sent_ns)) {
    return std::nullopt;
  }
  return stamp;
}

// The server process, read from /proc (Linux).
struct ProcessSample {
  double cpu_seconds = 0;    // utime + stime, all threads
  std::int64_t rss_kib = 0;  // VmRSS
  int open_fds = 0;
  bool ok = false;
};

ProcessSample SampleProcess(int pid) {
  ProcessSample sample;
  if (pid <= 0) return sample;
  const std::string dir = "/proc/" + std::to_string(pid);
  std::ifstream stat(dir + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return sample;
  // Fields after the command name, which is in parentheses and may hold spaces.
  std::istringstream rest(line.substr(line.rfind(')') + 2));
  std::vector<std::string> fields;
  for (std::string f; rest >> f;) fields.push_back(f);
  if (fields.size() < 13) return sample;
  const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  // Field 14 (utime) and 15 (stime) of stat; fields[] starts at field 3.
  sample.cpu_seconds = (std::stod(fields[11]) + std::stod(fields[12])) / ticks;
  std::ifstream status(dir + "/status");
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) sample.rss_kib = std::stoll(line.substr(6));
  }
  std::error_code error;
  for (auto it = std::filesystem::directory_iterator(dir + "/fd", error);
       !error && it != std::filesystem::directory_iterator(); it.increment(error)) {
    ++sample.open_fds;
  }
  sample.ok = true;
  return sample;
}

double ProcessCpuSeconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  auto seconds = [](const timeval& t) { return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6; };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

struct Config {
  std::string server;
  int server_pid = 0;
  int subscribers = 0;
  int publishers = 0;
  int rooms = 0;
  double rate = 0;  // total messages per second; 0 = flat out
  int window = 0;   // flat out: lines per publisher not yet seen by every subscriber
  double duration = 0;
  double drain_timeout = 0;
  double join_timeout = 0;
  int streams_per_channel = 0;
  std::size_t message_bytes = 0;
  bool batch = false;
  bool bdp_probe = true;
  std::string label;
  std::string markdown_row;
  std::string ready_file;
};

class Bench;

// Handles what one stream receives. Reads on one stream never overlap, so the
// per-stream state needs no lock.
class StreamBase : public grpc::ClientBidiReactor<ChatMessage, ChatMessage> {
 public:
  StreamBase(Bench& bench, std::string name, int room)
      : bench_(bench), name_(std::move(name)), room_(room) {}
  const std::string& name() const { return name_; }
  int room() const { return room_; }
  bool joined() const { return joined_.load(std::memory_order_acquire); }

 protected:
  void Begin(chat::ChatService::Stub& stub, const std::string& room_name, bool batch) {
    context_.AddMetadata(std::string(chat::kUserHeader), name_);
    context_.AddMetadata(std::string(chat::kRoomHeader), room_name);
    if (batch) context_.AddMetadata(std::string(kBatchHeader), "1");
    stub.async()->Chat(&context_, this);
  }
  void OnReadDone(bool ok) override;
  void OnDone(const grpc::Status& status) override;
  void HandleOne(const ChatMessage& message);
  virtual void OnChat(const Stamp& stamp, std::int64_t now_ns) = 0;
  virtual void OnReadsOver() {}

  Bench& bench_;
  const std::string name_;
  const int room_;
  grpc::ClientContext context_;
  ChatMessage incoming_;
  std::atomic<bool> joined_{false};
  // The room seq expected next, once joined; 0: whatever comes next (our
  // own JOIN was not in the room's log: a big room's, see below).
  std::uint64_t next_seq_ = 0;
  std::vector<std::int64_t> last_number_;  // per publisher; -1 = none yet

 public:
  void Cancel() { context_.TryCancel(); }
};

class SubscriberStream final : public StreamBase {
 public:
  using StreamBase::StreamBase;
  void Start(chat::ChatService::Stub& stub, const std::string& room_name, bool batch) {
    Begin(stub, room_name, batch);
    StartRead(&incoming_);
    StartCall();
  }

 private:
  void OnChat(const Stamp& stamp, std::int64_t now_ns) override;
};

// Writes lines when given credits (rate mode) or while its window allows
// (flat out). One write in flight at a time; a hold keeps the stream alive
// for writes started from the pacer thread until Release().
class PublisherStream final : public StreamBase {
 public:
  PublisherStream(Bench& bench, std::string name, int room, int index)
      : StreamBase(bench, std::move(name), room), index_(index) {}

  void Start(chat::ChatService::Stub& stub, const std::string& room_name, bool batch) {
    Begin(stub, room_name, batch);
    AddHold();
    StartRead(&incoming_);
    StartCall();
  }

  void AddCredits(std::int64_t n) {
    {
      std::lock_guard lock(mu_);
      credits_ += n;
    }
    Pump();
  }

  // Starts the next write if none is in flight and one is allowed. Safe from any thread.
  void Pump();

  // No writes after this; waits (bounded) for the one in flight.
  void Stop(std::chrono::milliseconds bound) {
    std::unique_lock lock(mu_);
    stopped_ = true;
    idle_.wait_for(lock, bound, [&] { return !writing_; });
  }

  // Cancels the call and drops the hold so that OnDone can run. Call once, after Stop().
  void Release() {
    Cancel();
    RemoveHold();
  }

  std::int64_t sent() const { return sent_.load(std::memory_order_acquire); }
  std::int64_t backlog() const {
    std::lock_guard lock(mu_);
    return credits_;
  }
  // Lines every subscriber of the room has received (flat-out mode only).
  std::atomic<std::int64_t> completed{0};

 private:
  void OnWriteDone(bool ok) override {
    {
      std::lock_guard lock(mu_);
      writing_ = false;
      if (ok) {
        sent_.fetch_add(1, std::memory_order_release);
      } else {
        broken_ = true;
      }
    }
    idle_.notify_all();
    if (ok) Pump();
  }
  void OnChat(const Stamp& stamp, std::int64_t now_ns) override;
  // Its hold keeps OnDone from running, so tell the bench now.
  void OnReadsOver() override;

  const int index_;
  mutable std::mutex mu_;
  std::condition_variable idle_;
  bool writing_ = false;          // guarded by mu_
  bool stopped_ = false;          // guarded by mu_
  bool broken_ = false;           // guarded by mu_
  std::int64_t credits_ = 0;      // guarded by mu_
  std::int64_t next_number_ = 0;  // guarded by mu_
  std::atomic<std::int64_t> sent_{0};
  ChatMessage outgoing_;  // owned by the write in flight
};

class Bench {
 public:
  explicit Bench(Config config) : config_(std::move(config)) {}
  int Run();

  // Called from reactions.
  void Joined(const StreamBase& stream, bool publisher) {
    {
      std::lock_guard lock(mu_);
      (publisher ? joined_publishers_ : joined_subscribers_)++;
    }
    (void)stream;
    cv_.notify_all();
  }
  void PublisherJoinSeen() {
    if (publisher_joins_seen_.fetch_add(1, std::memory_order_relaxed) + 1 ==
        expected_publisher_joins_) {
      std::lock_guard lock(mu_);  // so that a waiter cannot miss the notification
      cv_.notify_all();
    }
  }
  void Delivered(const Stamp& stamp, std::int64_t now_ns, std::vector<std::int64_t>& last) {
    if (stamp.publisher < 0 || stamp.publisher >= config_.publishers) {
      unknown_.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    if (last.empty()) last.assign(config_.publishers, -1);
    std::int64_t& previous = last[stamp.publisher];
    if (stamp.number <= previous) {
      reordered_.fetch_add(1, std::memory_order_relaxed);
    } else {
      if (stamp.number > previous + 1) {
        skipped_.fetch_add(static_cast<std::uint64_t>(stamp.number - previous - 1),
                           std::memory_order_relaxed);
      }
      previous = stamp.number;
    }
    latency_.Record(static_cast<std::uint64_t>(std::max<std::int64_t>(0, now_ns - stamp.sent_ns)));
    deliveries_.fetch_add(1, std::memory_order_relaxed);
    last_delivery_ns_.store(now_ns, std::memory_order_relaxed);
    if (config_.rate == 0) Complete(stamp);
  }
  void Echoed() { echoes_.fetch_add(1, std::memory_order_relaxed); }
  void BatchFrame(int messages) {
    batch_frames_.fetch_add(1, std::memory_order_relaxed);
    batched_messages_.fetch_add(static_cast<std::uint64_t>(messages), std::memory_order_relaxed);
  }
  void SeqGap(std::uint64_t missing) { seq_gaps_.fetch_add(missing, std::memory_order_relaxed); }
  void SeqBackwards() { seq_backwards_.fetch_add(1, std::memory_order_relaxed); }
  void ErrorEvent(const std::string& text) {
    if (errors_.fetch_add(1, std::memory_order_relaxed) == 0) {
      std::lock_guard lock(mu_);
      first_error_ = text;
    }
  }
  void PublisherBroken(const StreamBase& stream) {
    {
      std::lock_guard lock(mu_);
      if (tearing_down_) return;
      ++ended_early_;
      if (first_early_end_.empty()) {
        first_early_end_ =
            stream.name() + ": the server ended the stream (status follows at teardown)";
      }
    }
    cv_.notify_all();
  }
  void StreamDone(const StreamBase& stream, const grpc::Status& status) {
    {
      std::lock_guard lock(mu_);
      ++done_;
      if (!tearing_down_) {
        ++ended_early_;
        if (first_early_end_.empty()) {
          first_early_end_ = stream.name() + ": status " + std::to_string(status.error_code()) +
                             " " + status.error_message();
        }
      }
    }
    cv_.notify_all();
  }

  int publishers() const { return config_.publishers; }
  int window() const { return config_.window; }
  bool flat_out() const { return config_.rate == 0; }
  std::size_t message_bytes() const { return config_.message_bytes; }
  bool IsPublisherName(std::string_view name) const {
    return name.size() > publisher_prefix_.size() && name.starts_with(publisher_prefix_);
  }

 private:
  // Flat out: counts a line's deliveries and frees its publisher's window when
  // the whole room has it.
  void Complete(const Stamp& stamp) {
    const int room = stamp.publisher % config_.rooms;
    auto& slot = pending_[stamp.publisher][static_cast<std::size_t>(stamp.number) & kRingMask];
    if (slot.fetch_add(1, std::memory_order_acq_rel) + 1 ==
        static_cast<std::uint32_t>(subscribers_in_room_[room])) {
      slot.store(0, std::memory_order_relaxed);
      publishers_[stamp.publisher]->completed.fetch_add(1, std::memory_order_acq_rel);
      publishers_[stamp.publisher]->Pump();
    }
  }

  template <typename Pred>
  bool WaitFor(double seconds, Pred pred) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, std::chrono::duration<double>(seconds), pred);
  }
  bool PollFor(double seconds, const std::function<bool()>& pred) {
    const auto deadline = Clock::now() + std::chrono::duration<double>(seconds);
    while (!pred()) {
      if (Clock::now() >= deadline) return false;
      std::unique_lock lock(mu_);
      cv_.wait_for(lock, std::chrono::milliseconds(10));
    }
    return true;
  }
  void Pace(Clock::time_point start, Clock::time_point end);
  void TearDown();
  void Report(const std::string& setup_problem);

  static constexpr std::size_t kRingSize = 1 << 16;
  static constexpr std::size_t kRingMask = kRingSize - 1;

  const Config config_;
  std::string run_;
  std::string publisher_prefix_;
  std::vector<int> subscribers_in_room_, publishers_in_room_;
  std::vector<std::shared_ptr<grpc::Channel>> channels_;
  std::vector<std::unique_ptr<chat::ChatService::Stub>> stubs_;
  std::vector<std::unique_ptr<SubscriberStream>> subscribers_;
  std::vector<std::unique_ptr<PublisherStream>> publishers_;
  std::vector<std::unique_ptr<std::atomic<std::uint32_t>[]>> pending_;

  std::mutex mu_;
  std::condition_variable cv_;
  int joined_subscribers_ = 0;                 // guarded by mu_
  int joined_publishers_ = 0;                  // guarded by mu_
  int done_ = 0;                               // guarded by mu_
  int ended_early_ = 0;                        // guarded by mu_
  bool tearing_down_ = false;                  // guarded by mu_
  std::string first_early_end_, first_error_;  // guarded by mu_

  std::int64_t expected_publisher_joins_ = 0;
  std::atomic<std::int64_t> publisher_joins_seen_{0};
  // skipped_: lines a subscriber never got although it got a later line of
  // the same publisher (lost, unless they come later: then also reordered_).
  std::atomic<std::uint64_t> deliveries_{0}, echoes_{0}, reordered_{0}, skipped_{0}, seq_gaps_{0},
      seq_backwards_{0}, errors_{0}, unknown_{0};
  std::atomic<std::uint64_t> batch_frames_{0}, batched_messages_{0};     // since the start
  std::uint64_t batch_frames_before_ = 0, batched_messages_before_ = 0;  // when publishing started
  std::atomic<std::int64_t> last_delivery_ns_{0};
  Histogram latency_;

  // Filled by Run() for Report().
  double join_seconds_ = 0, settle_seconds_ = 0, window_seconds_ = 0, drain_seconds_ = 0;
  std::int64_t sent_ = 0, backlog_ = 0, expected_deliveries_ = 0, expected_echoes_ = 0;
  std::int64_t start_ns_ = 0, stop_ns_ = 0, measured_end_ns_ = 0;
  bool drained_ = false;
  ProcessSample baseline_, joined_sample_, before_, after_;
  double bench_cpu_ = 0;
  std::string load_average_;  // /proc/loadavg when publishing started
};

void StreamBase::OnReadDone(bool ok) {
  if (!ok) {  // the stream is over; OnDone follows (for a publisher: after Release())
    OnReadsOver();
    return;
  }
  if (incoming_.batch_size() > 0) {
    bench_.BatchFrame(incoming_.batch_size());
    for (const ChatMessage& m : incoming_.batch()) HandleOne(m);
  } else {
    HandleOne(incoming_);
  }
  StartRead(&incoming_);
}

void StreamBase::HandleOne(const ChatMessage& message) {
  if (!joined_.load(std::memory_order_relaxed)) {
    // Before our own JOIN come the welcome notice and nothing else of interest.
    if (message.kind() == chat::JOIN && message.subject() == name_) {
      // In a room big enough for the server to coalesce presence, our own
      // JOIN comes to us alone, outside the room's log (seq 0), and the room
      // hears of us later in a PRESENCE event.
      next_seq_ = message.seq() == 0 ? 0 : message.seq() + 1;
      joined_.store(true, std::memory_order_release);
      bench_.Joined(*this, bench_.IsPublisherName(name_));
    }
    return;
  }
  if (message.seq() != 0) {
    if (next_seq_ == 0 || message.seq() == next_seq_) {
      next_seq_ = message.seq() + 1;
    } else if (message.seq() > next_seq_) {
      bench_.SeqGap(message.seq() - next_seq_);
      next_seq_ = message.seq() + 1;
    } else {
      bench_.SeqBackwards();
    }
  }
  switch (message.kind()) {
    case chat::CHAT:
      if (bench_.IsPublisherName(message.user())) {
        if (const auto stamp = ParseStamp(message.message())) OnChat(*stamp, NowNs());
      }
      break;
    case chat::JOIN:
      if (!bench_.IsPublisherName(name_) && bench_.IsPublisherName(message.subject())) {
        bench_.PublisherJoinSeen();
      }
      break;
    case chat::PRESENCE:  // a big room's joins, together (--presence-coalesce-above)
      if (!bench_.IsPublisherName(name_)) {
        for (const std::string& joined : message.joined()) {
          if (bench_.IsPublisherName(joined)) bench_.PublisherJoinSeen();
        }
      }
      break;
    case chat::ERROR:
      bench_.ErrorEvent(name_ + ": " + message.message());
      break;
    default:
      break;
  }
}

void StreamBase::OnDone(const grpc::Status& status) { bench_.StreamDone(*this, status); }

void SubscriberStream::OnChat(const Stamp& stamp, std::int64_t now_ns) {
  bench_.Delivered(stamp, now_ns, last_number_);
}

void PublisherStream::OnChat(const Stamp&, std::int64_t) { bench_.Echoed(); }

void PublisherStream::OnReadsOver() { bench_.PublisherBroken(*this); }

void PublisherStream::Pump() {
  Stamp stamp;
  {
    std::lock_guard lock(mu_);
    if (writing_ || stopped_ || broken_) return;
    if (bench_.flat_out()) {
      if (next_number_ - completed.load(std::memory_order_acquire) >= bench_.window()) return;
    } else {
      if (credits_ <= 0) return;
      --credits_;
    }
    writing_ = true;
    stamp.number = next_number_++;
  }
  // outgoing_ is ours alone while writing_ is set; StartWrite is called
  // without mu_ because its completion may run on this thread.
  stamp.publisher = index_;
  stamp.sent_ns = NowNs();
  outgoing_.set_message(FormatStamp(stamp, bench_.message_bytes()));
  StartWrite(&outgoing_);
}

void Bench::Pace(Clock::time_point start, Clock::time_point end) {
  if (flat_out()) {
    for (auto& p : publishers_) p->Pump();
    std::this_thread::sleep_until(end);
    return;
  }
  // Publisher j's k-th line is due at (k - (j + 0.5) / P) / r: evenly spread phases.
  const double per_publisher = config_.rate / config_.publishers;
  std::vector<std::int64_t> granted(publishers_.size(), 0);
  for (auto now = Clock::now(); now < end; now = Clock::now()) {
    const double elapsed = std::chrono::duration<double>(now - start).count();
    Clock::time_point next = end;
    for (std::size_t j = 0; j < publishers_.size(); ++j) {
      const double phase = (static_cast<double>(j) + 0.5) / static_cast<double>(publishers_.size());
      const auto due = static_cast<std::int64_t>(std::floor(elapsed * per_publisher + phase));
      if (due > granted[j]) {
        publishers_[j]->AddCredits(due - granted[j]);
        granted[j] = due;
      }
      const auto when =
          start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(
                      (static_cast<double>(granted[j] + 1) - phase) / per_publisher));
      next = std::min(next, when);
    }
    std::this_thread::sleep_until(next);
  }
}

int Bench::Run() {
  const auto& c = config_;
  run_ = "b" + std::to_string(getpid() % 100000) + "x" +
         std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count() %
                        1000000);
  publisher_prefix_ = run_ + "p";
  subscribers_in_room_.assign(c.rooms, 0);
  publishers_in_room_.assign(c.rooms, 0);
  for (int i = 0; i < c.subscribers; ++i) subscribers_in_room_[i % c.rooms]++;
  for (int j = 0; j < c.publishers; ++j) publishers_in_room_[j % c.rooms]++;
  for (int r = 0; r < c.rooms; ++r) {
    expected_publisher_joins_ +=
        static_cast<std::int64_t>(subscribers_in_room_[r]) * publishers_in_room_[r];
  }
  auto room_name = [&](int r) { return run_ + "r" + std::to_string(r); };

  const int streams = c.subscribers + c.publishers;
  const int channel_count = (streams + c.streams_per_channel - 1) / c.streams_per_channel;
  rlimit files{};
  getrlimit(RLIMIT_NOFILE, &files);
  if (files.rlim_cur < files.rlim_max) {
    files.rlim_cur = files.rlim_max;
    setrlimit(RLIMIT_NOFILE, &files);
  }
  if (files.rlim_cur != RLIM_INFINITY && static_cast<rlim_t>(channel_count) + 64 > files.rlim_cur) {
    std::cerr << "fanout_bench: " << channel_count << " connections need more file descriptors than"
              << " ulimit -n allows (" << files.rlim_cur << "); raise --streams-per-channel\n";
    return 2;
  }

  baseline_ = SampleProcess(c.server_pid);
  if (c.server_pid > 0 && !baseline_.ok) {
    std::cerr << "fanout_bench: cannot read /proc/" << c.server_pid << "\n";
    return 2;
  }

  for (int i = 0; i < channel_count; ++i) {
    grpc::ChannelArguments args;
    // A channel of its own (own subchannel, own TCP connection) for each index.
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    args.SetInt("grpc_chat.bench_channel", i);
    if (!c.bdp_probe) args.SetInt(GRPC_ARG_HTTP2_BDP_PROBE, 0);
    channels_.push_back(
        grpc::CreateCustomChannel(c.server, grpc::InsecureChannelCredentials(), args));
    stubs_.push_back(chat::ChatService::NewStub(channels_.back()));
  }
  pending_.resize(c.publishers);
  if (flat_out()) {
    for (auto& ring : pending_) ring = std::make_unique<std::atomic<std::uint32_t>[]>(kRingSize);
  }

  // Subscribers first, and all of them in before any publisher.
  const auto t_start = Clock::now();
  int next_stub = 0;
  for (int i = 0; i < c.subscribers; ++i) {
    subscribers_.push_back(
        std::make_unique<SubscriberStream>(*this, run_ + "s" + std::to_string(i), i % c.rooms));
  }
  for (auto& s : subscribers_) {
    s->Start(*stubs_[next_stub++ % channel_count], room_name(s->room()), c.batch);
  }
  std::string problem;
  if (!WaitFor(c.join_timeout,
               [&] { return joined_subscribers_ == c.subscribers || ended_early_ > 0; })) {
    std::lock_guard lock(mu_);
    problem = "only " + std::to_string(joined_subscribers_) + " of " +
              std::to_string(c.subscribers) + " subscribers joined within the join timeout";
  }
  join_seconds_ = std::chrono::duration<double>(Clock::now() - t_start).count();

  if (problem.empty()) {
    for (int j = 0; j < c.publishers; ++j) {
      publishers_.push_back(std::make_unique<PublisherStream>(
          *this, publisher_prefix_ + std::to_string(j), j % c.rooms, j));
    }
    for (auto& p : publishers_) {
      p->Start(*stubs_[next_stub++ % channel_count], room_name(p->room()), c.batch);
    }
    const bool settled = WaitFor(c.join_timeout, [&] {
      return (joined_publishers_ == c.publishers &&
              publisher_joins_seen_.load(std::memory_order_relaxed) == expected_publisher_joins_) ||
             ended_early_ > 0;
    });
    if (!settled) problem = "the publishers did not join within the join timeout";
    settle_seconds_ = std::chrono::duration<double>(Clock::now() - t_start).count() - join_seconds_;
  }
  {
    std::lock_guard lock(mu_);
    if (problem.empty() && ended_early_ > 0) problem = "a stream ended: " + first_early_end_;
  }

  if (problem.empty()) {
    joined_sample_ = SampleProcess(c.server_pid);
    before_ = joined_sample_;
    const double bench_cpu_before = ProcessCpuSeconds();
    std::ifstream("/proc/loadavg") >> load_average_;
    batch_frames_before_ = batch_frames_.load();
    batched_messages_before_ = batched_messages_.load();
    if (!c.ready_file.empty()) std::ofstream(c.ready_file) << "publishing\n";
    const auto start = Clock::now();
    start_ns_ = NowNs();
    const auto end = start + std::chrono::duration_cast<Clock::duration>(
                                 std::chrono::duration<double>(c.duration));
    Pace(start, end);
    for (auto& p : publishers_) p->Stop(std::chrono::seconds(5));
    stop_ns_ = NowNs();
    window_seconds_ = Seconds(stop_ns_ - start_ns_);
    for (std::size_t j = 0; j < publishers_.size(); ++j) {
      const std::int64_t sent = publishers_[j]->sent();
      const int room = static_cast<int>(j) % c.rooms;
      sent_ += sent;
      backlog_ += publishers_[j]->backlog();
      expected_deliveries_ += sent * subscribers_in_room_[room];
      expected_echoes_ += sent * publishers_in_room_[room];
    }
    drained_ = PollFor(c.drain_timeout, [&] {
      return static_cast<std::int64_t>(deliveries_.load()) >= expected_deliveries_ &&
             static_cast<std::int64_t>(echoes_.load()) >= expected_echoes_;
    });
    measured_end_ns_ = NowNs();
    drain_seconds_ = Seconds(measured_end_ns_ - stop_ns_);
    after_ = SampleProcess(c.server_pid);
    bench_cpu_ = ProcessCpuSeconds() - bench_cpu_before;
  }
  Report(problem);
  TearDown();
  return problem.empty() ? 0 : 1;
}

void Bench::TearDown() {
  {
    std::lock_guard lock(mu_);
    tearing_down_ = true;
  }
  for (auto& p : publishers_) p->Stop(std::chrono::seconds(5));
  for (auto& s : subscribers_) s->Cancel();
  for (auto& p : publishers_) p->Release();
  const int streams = static_cast<int>(subscribers_.size() + publishers_.size());
  if (!WaitFor(30, [&] { return done_ == streams; })) {
    std::cerr << "fanout_bench: " << streams - done_ << " streams did not end; exiting anyway\n";
    std::fflush(nullptr);
    std::_Exit(1);  // reactors gRPC still holds must not be destroyed
  }
}

std::string Micros(std::uint64_t ns) {
  return ns >= 10'000'000  ? Fixed(ns / 1e6, 0) + " ms"
         : ns >= 1'000'000 ? Fixed(ns / 1e6, 2) + " ms"
                           : Fixed(ns / 1e3, 0) + " us";
}

void Bench::Report(const std::string& problem) {
  const auto& c = config_;
  const int streams = c.subscribers + c.publishers;
  const int connections = static_cast<int>(channels_.size());
  std::ostringstream out;
  out << "fanout_bench " << c.label << "\n"
      << "  setup: " << c.subscribers << " subscribers + " << c.publishers << " publishers in "
      << c.rooms << " room(s); " << streams << " streams over " << connections << " connections; "
      << (flat_out() ? "flat out (window " + std::to_string(c.window) + ")"
                     : Fixed(c.rate, 1) + " msg/s")
      << " for " << Fixed(c.duration, 1) << " s; " << c.message_bytes << "-byte texts"
      << (c.batch ? "; chat-batch: 1" : "") << (c.bdp_probe ? "" : "; no BDP probe") << "\n"
      << "  joined in " << Fixed(join_seconds_, 2) << " s, publishers settled in "
      << Fixed(settle_seconds_, 2) << " s\n";
  if (!problem.empty()) {
    out << "  FAILED: " << problem << "\n";
    std::cout << out.str() << std::flush;
    return;
  }
  const std::uint64_t deliveries = deliveries_.load();
  const std::int64_t last = last_delivery_ns_.load();
  const double active = last > start_ns_ ? Seconds(last - start_ns_) : window_seconds_;
  const double per_second = active > 0 ? static_cast<double>(deliveries) / active : 0;
  // Lost: skipped over and never delivered. Late: not delivered when the
  // drain timeout ran out, with nothing after them (the server fell behind).
  const std::int64_t lost = std::max<std::int64_t>(
      0, static_cast<std::int64_t>(skipped_.load()) - static_cast<std::int64_t>(reordered_.load()));
  const std::int64_t late = std::max<std::int64_t>(
      0, expected_deliveries_ - static_cast<std::int64_t>(deliveries) - lost);
  const std::string lost_text =
      std::to_string(lost) + (late > 0 ? " (+" + std::to_string(late) + " late)" : "");
  const double msg_rate = static_cast<double>(sent_) / window_seconds_;
  out << "  sent " << sent_ << " lines (" << Fixed(msg_rate, 1) << " msg/s"
      << (backlog_ > 0
              ? "; " + std::to_string(backlog_) + " due but not sent: publishers fell behind"
              : "")
      << ")\n"
      << "  deliveries to subscribers: " << deliveries << " of " << expected_deliveries_ << " ("
      << Fixed(per_second, 0) << "/s); echoes to publishers " << echoes_.load() << " of "
      << expected_echoes_ << (drained_ ? "" : "; NOT DRAINED within the drain timeout") << "\n"
      << "  lost " << lost << ", reordered " << reordered_.load()
      << (late > 0 ? ", still undelivered at the drain timeout " + std::to_string(late) : "")
      << "; server seq: gaps " << seq_gaps_.load() << ", backwards " << seq_backwards_.load()
      << "; error events " << errors_.load() << "\n"
      << "  latency send->delivery: p50 " << Micros(latency_.Quantile(0.5)) << ", p90 "
      << Micros(latency_.Quantile(0.9)) << ", p99 " << Micros(latency_.Quantile(0.99)) << ", p99.9 "
      << Micros(latency_.Quantile(0.999)) << ", max " << Micros(latency_.Max()) << " ("
      << latency_.Count() << " samples)\n";
  if (c.batch) {
    const std::uint64_t frames = batch_frames_.load() - batch_frames_before_;
    const std::uint64_t batched = batched_messages_.load() - batched_messages_before_;
    const std::uint64_t received = deliveries + echoes_.load();
    out << "  batch frames while publishing: " << frames << ", carrying " << batched << " of the "
        << received << " lines received"
        << (frames > 0 ? " (" + Fixed(static_cast<double>(batched) / frames, 1) + " per frame)"
                       : "")
        << "\n";
  }
  {
    std::lock_guard lock(mu_);
    if (ended_early_ > 0) {
      out << "  " << ended_early_ << " streams ended early, e.g. " << first_early_end_ << "\n";
    }
    if (!first_error_.empty()) out << "  first error event: " << first_error_ << "\n";
  }
  const double measured = Seconds(measured_end_ns_ - start_ns_);  // the window plus the drain
  std::string cpu_per_delivery = "-", server_cpu = "-", kib_per_stream = "-";
  if (c.server_pid > 0 && before_.ok && after_.ok) {
    const double cpu = after_.cpu_seconds - before_.cpu_seconds;
    const double writes = static_cast<double>(deliveries + echoes_.load());
    cpu_per_delivery = writes > 0 ? Fixed(cpu / writes * 1e6, 2) : "-";
    server_cpu = Fixed(100 * cpu / measured, 0) + "%";
    const double grown = static_cast<double>(joined_sample_.rss_kib - baseline_.rss_kib);
    kib_per_stream = Fixed(grown / streams, 1);
    out << "  server: " << Fixed(cpu, 2) << " s CPU in " << Fixed(measured, 2) << " s ("
        << server_cpu << " of a core); " << cpu_per_delivery
        << " us per delivery (subscriber deliveries + publisher echoes)\n"
        << "  server memory: RSS " << baseline_.rss_kib << " KiB before connecting, "
        << joined_sample_.rss_kib << " KiB with everyone joined, " << after_.rss_kib
        << " KiB after the run; " << kib_per_stream << " KiB per stream, "
        << Fixed(grown / connections, 1) << " KiB per connection; open fds " << baseline_.open_fds
        << " -> " << joined_sample_.open_fds << "\n";
  }
  out << "  bench: " << Fixed(bench_cpu_, 2) << " s CPU (" << Fixed(100 * bench_cpu_ / measured, 0)
      << "% of a core; near 100% means the bench, not the server, set the pace); load average "
      << load_average_ << " when publishing started\n";
  std::cout << out.str() << std::flush;

  if (!c.markdown_row.empty()) {
    std::ofstream row(c.markdown_row, std::ios::app);
    row << "| " << c.label << " | " << c.subscribers << " | " << c.publishers << " | " << c.rooms
        << " | " << streams << " / " << connections << " | "
        << (flat_out() ? "flat out" : Fixed(c.rate, 0)) << " | " << Fixed(msg_rate, 0) << " | "
        << Fixed(per_second, 0) << " | " << Micros(latency_.Quantile(0.5)) << " | "
        << Micros(latency_.Quantile(0.99)) << " | " << Micros(latency_.Max()) << " | " << lost_text
        << " | " << reordered_.load() + seq_backwards_.load() << " | " << cpu_per_delivery << " | "
        << server_cpu << " | " << kib_per_stream << " | " << Fixed(100 * bench_cpu_ / measured, 0)
        << "% | " << load_average_ << " |\n";
  }
}

}  // namespace

int main(int argc, char** argv) {
  // As in chat-server: Debian's abseil checks every gRPC lock for deadlock
  // cycles, which cost the bench about 10% of its CPU (perf), and the bench's
  // own CPU caps what it can measure.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  cxxopts::Options options("fanout_bench",
                           "Measures chat-server fan-out: S subscribers, P publishers, loopback");
  // clang-format off
  options.add_options()
    ("server", "chat-server address", cxxopts::value<std::string>()->default_value("127.0.0.1:50051"), "ADDR")
    ("server-pid", "the server's pid, for its CPU time and memory (0: not measured)",
     cxxopts::value<int>()->default_value("0"), "PID")
    ("s,subscribers", "subscriber streams", cxxopts::value<int>()->default_value("100"), "S")
    ("p,publishers", "publisher streams", cxxopts::value<int>()->default_value("1"), "P")
    ("rooms", "rooms; stream i goes to room i % ROOMS", cxxopts::value<int>()->default_value("1"), "N")
    ("rate", "total lines per second over all publishers; 0 = flat out",
     cxxopts::value<double>()->default_value("1000"), "R")
    ("window", "flat out: lines per publisher not yet received by every subscriber",
     cxxopts::value<int>()->default_value("64"), "N")
    ("duration", "seconds of publishing", cxxopts::value<double>()->default_value("10"), "SECONDS")
    ("drain-timeout", "seconds to wait for deliveries after publishing stops",
     cxxopts::value<double>()->default_value("5"), "SECONDS")
    ("join-timeout", "seconds to wait for everyone to join", cxxopts::value<double>()->default_value("60"), "SECONDS")
    ("streams-per-channel", "streams sharing one channel (one TCP connection); 1 = a connection "
     "per stream, like real users", cxxopts::value<int>()->default_value("1"), "N")
    ("message-bytes", "length of each chat text", cxxopts::value<std::size_t>()->default_value("64"), "N")
    ("batch", "send chat-batch: 1 (the server may pack several messages in one frame)")
    ("no-bdp-probe", "turn off the client's HTTP/2 BDP pings (on by default in gRPC clients)")
    ("label", "name of this point in the report", cxxopts::value<std::string>()->default_value(""), "TEXT")
    ("markdown-row", "append one markdown table row to FILE",
     cxxopts::value<std::string>()->default_value(""), "FILE")
    ("ready-file", "create FILE when publishing starts (for profilers)",
     cxxopts::value<std::string>()->default_value(""), "FILE")
    ("h,help", "show this help");
  // clang-format on
  Config config;
  try {
    const auto parsed = options.parse(argc, argv);
    if (parsed.count("help")) {
      std::cout << options.help() << "\n";
      return 0;
    }
    if (!parsed.unmatched().empty())
      throw std::runtime_error("unexpected " + parsed.unmatched()[0]);
    config.server = parsed["server"].as<std::string>();
    config.server_pid = parsed["server-pid"].as<int>();
    config.subscribers = parsed["subscribers"].as<int>();
    config.publishers = parsed["publishers"].as<int>();
    config.rooms = parsed["rooms"].as<int>();
    config.rate = parsed["rate"].as<double>();
    config.window = parsed["window"].as<int>();
    config.duration = parsed["duration"].as<double>();
    config.drain_timeout = parsed["drain-timeout"].as<double>();
    config.join_timeout = parsed["join-timeout"].as<double>();
    config.streams_per_channel = parsed["streams-per-channel"].as<int>();
    config.message_bytes = parsed["message-bytes"].as<std::size_t>();
    config.batch = parsed.count("batch") > 0;
    config.bdp_probe = parsed.count("no-bdp-probe") == 0;
    config.label = parsed["label"].as<std::string>();
    config.markdown_row = parsed["markdown-row"].as<std::string>();
    config.ready_file = parsed["ready-file"].as<std::string>();
  } catch (const std::exception& e) {
    std::cerr << "fanout_bench: " << e.what() << " (see --help)\n";
    return 2;
  }
  std::string bad;
  if (config.subscribers < 1) bad = "--subscribers must be at least 1";
  if (config.publishers < 1) bad = "--publishers must be at least 1";
  if (config.rooms < 1 || config.rooms > config.subscribers) {
    bad = "--rooms must be between 1 and --subscribers";
  }
  if (config.rate < 0) bad = "--rate must not be negative";
  if (config.window < 1 || config.window > 30000) bad = "--window must be between 1 and 30000";
  if (config.duration <= 0 || config.duration > 600) bad = "--duration must be in (0, 600]";
  if (config.drain_timeout < 0 || config.drain_timeout > 600)
    bad = "--drain-timeout must be in [0, 600]";
  if (config.join_timeout <= 0 || config.join_timeout > 600)
    bad = "--join-timeout must be in (0, 600]";
  if (config.streams_per_channel < 1) bad = "--streams-per-channel must be at least 1";
  if (config.message_bytes > 2000) bad = "--message-bytes must be at most 2000";
  if (!bad.empty()) {
    std::cerr << "fanout_bench: " << bad << " (see --help)\n";
    return 2;
  }
  if (config.label.empty()) {
    config.label = std::to_string(config.subscribers) + "x" +
                   (config.rate == 0 ? std::string("max") : Fixed(config.rate, 0));
  }
  Bench bench(config);
  return bench.Run();
}
