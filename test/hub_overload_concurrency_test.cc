// Room back-pressure under many threads, without gRPC (docs/architecture.md,
// "Overload"): senders post into one room as fast as they can; every
// member's queue drains on a thread of its own, some slowly, and reports
// its backlog the way a reactor does (with each delivery, and through
// Hub::Drained when it ends). The room is congested again and again, so
// lines are held and posted later, and their senders resumed, from
// whichever thread drained. Afterwards every member must have every line
// exactly once, each sender's in order; every held line must have been
// resumed once; every reference the hub took must have been released.
//
// Built into hub_concurrency_test, and so also run under ThreadSanitizer.
#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "server/hub.h"
#include "server/memory_room_log.h"

namespace chat {
namespace {

using namespace std::chrono_literals;

constexpr int kMembers = 6;
constexpr int kLinesPerSender = 400;
constexpr std::size_t kHigh = 8;  // backlogged at this many waiting...
constexpr std::size_t kLow = 4;   // ...until drained to this many

class DrainingSubscriber final : public Subscriber {
 public:
  DrainingSubscriber(Hub& hub, int index) : hub_(hub), index_(index) {}

  Delivered Deliver(EnvelopePtr envelope) override {
    std::lock_guard lock(mu_);
    const ChatMessage& m = envelope->message;
    if (m.kind() == CHAT) lines_.push_back(m.message());
    ++waiting_;
    if (waiting_ >= kHigh) backlogged_ = true;
    changed_.notify_all();
    return {Delivery::kQueued, backlogged_};
  }
  bool Backlogged() override {
    std::lock_guard lock(mu_);
    return backlogged_;
  }
  void Resume() override {
    std::lock_guard lock(mu_);
    if (!held_) problem_ = "Resume without a held line";
    if (refs_ <= 0) problem_ = "Resume without a reference";
    held_ = false;
    ++resumes_;
    changed_.notify_all();
  }
  void Close(const grpc::Status&) override {
    std::lock_guard lock(mu_);
    problem_ = "closed: nobody is cut here";
  }
  void Flush() override {}
  void Ref() override {
    std::lock_guard lock(mu_);
    ++refs_;
  }
  void Unref() override {
    std::lock_guard lock(mu_);
    if (--refs_ < 0) problem_ = "Unref without a Ref";
  }

  // The sender's side: posts its lines, waiting after each held one until
  // the hub resumes it (as a reactor stops reading until Resume).
  void Talk() {
    for (int i = 0; i < kLinesPerSender; ++i) {
      const std::string text = std::to_string(index_) + ":" + std::to_string(i);
      {
        // Before Receive: Resume may come from another thread before it returns.
        std::lock_guard lock(mu_);
        held_ = true;
      }
      const Hub::Receipt receipt = hub_.Receive(this, text, "");
      std::unique_lock lock(mu_);
      if (!receipt.held) {
        held_ = false;
        continue;
      }
      ++holds_;
      if (!changed_.wait_for(lock, 10s, [&] { return !held_; })) {
        problem_ = "line " + text + " held and never resumed";
        return;
      }
    }
  }

  // The queue's side: drains one message at a time, at this member's pace,
  // until `stop`; tells the hub when a backlog ends.
  void Drain(std::chrono::microseconds pace, const std::atomic<bool>& stop) {
    while (true) {
      bool drained = false;
      {
        std::unique_lock lock(mu_);
        changed_.wait_for(lock, 1ms, [&] { return waiting_ > 0 || stop; });
        if (waiting_ == 0) {
          if (stop) return;
          continue;
        }
        --waiting_;
        if (backlogged_ && waiting_ <= kLow) {
          backlogged_ = false;
          drained = true;
        }
      }
      if (drained) hub_.Drained(this);  // without our mutex: lock order hub, then us
      if (pace.count() > 0) std::this_thread::sleep_for(pace);
    }
  }

  struct Record {
    std::vector<std::string> lines;
    int holds, resumes, refs;
    std::string problem;
  };
  Record record() {
    std::lock_guard lock(mu_);
    return {lines_, holds_, resumes_, refs_, problem_};
  }

 private:
  Hub& hub_;
  const int index_;
  std::mutex mu_;
  std::condition_variable changed_;
  std::vector<std::string> lines_;
  std::size_t waiting_ = 0;
  bool backlogged_ = false;
  bool held_ = false;
  int holds_ = 0, resumes_ = 0, refs_ = 0;
  std::string problem_;
};

TEST(HubOverloadConcurrencyTest, HeldLinesArePostedOnceInOrderAndEverySenderIsResumed) {
  HubOptions options;
  options.rate_limit = 0;
  options.make_room_log = [](const std::string&) { return std::make_unique<MemoryRoomLog>(10, 1); };
  Hub hub(options);
  std::vector<std::unique_ptr<DrainingSubscriber>> members;
  for (int i = 0; i < kMembers; ++i) {
    members.push_back(std::make_unique<DrainingSubscriber>(hub, i));
    ASSERT_TRUE(hub.Join(members.back().get(), {"m" + std::to_string(i), "busy", {}, {}}).ok());
  }
  std::atomic<bool> stop{false};
  std::vector<std::thread> drainers;
  for (int i = 0; i < kMembers; ++i) {
    // Most members drain slowly, so the room is congested often; two fast.
    const auto pace = i < 2 ? 0us : std::chrono::microseconds(20 + 10 * i);
    drainers.emplace_back([&, i, pace] { members[i]->Drain(pace, stop); });
  }
  std::vector<std::thread> talkers;
  for (int i = 0; i < kMembers; ++i) talkers.emplace_back([&, i] { members[i]->Talk(); });
  for (std::thread& t : talkers) t.join();
  stop = true;
  for (std::thread& t : drainers) t.join();

  int holds = 0;
  for (int m = 0; m < kMembers; ++m) {
    const auto record = members[m]->record();
    EXPECT_EQ(record.problem, "") << "m" << m;
    EXPECT_EQ(record.resumes, record.holds) << "m" << m << ": every held line is resumed once";
    EXPECT_EQ(record.refs, 0) << "m" << m;
    holds += record.holds;
    ASSERT_EQ(record.lines.size(), static_cast<std::size_t>(kMembers * kLinesPerSender))
        << "m" << m;
    std::array<int, kMembers> next{};
    for (const std::string& line : record.lines) {
      const int sender = std::stoi(line.substr(0, line.find(':')));
      const int number = std::stoi(line.substr(line.find(':') + 1));
      ASSERT_EQ(number, next[sender]) << "m" << m << " got " << line;
      ++next[sender];
    }
  }
  // The point of the test: the room was congested, lines were held.
  EXPECT_GT(holds, 0);
}

}  // namespace
}  // namespace chat
