// The hub under many threads at once, without gRPC: members that talk,
// switch rooms, rename, leave and come back, through subscribers that
// sometimes need a flush and sometimes refuse (and are dropped). Afterwards
// every member must have received every message of its rooms exactly once,
// in the room's order, every Flush probed (each member's first and every
// fourth) must have run without the hub's mutex, and every reference the
// hub took must have been released.
//
// Its own program so that it also runs under ThreadSanitizer (see
// test/CMakeLists.txt): no gRPC threads are involved, so no suppressions.
#include <gtest/gtest.h>
#include <spdlog/spdlog.h>

#include <array>
#include <atomic>
#include <cctype>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <future>
#include <latch>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "common/text_rules.h"
#include "server/hub.h"
#include "server/memory_room_log.h"
#include "test/support/hub_lock_probe.h"
#include "test/support/manual_clock.h"
#include "test/support/passive_subscriber.h"

namespace chat {
namespace {

using namespace std::chrono_literals;
using testing::HubLockProbe;

constexpr int kThreads = 8;
constexpr int kMembersPerThread = 2;  // each thread drives two members in turn
constexpr int kStepsPerThread = 1500;
constexpr std::size_t kHistory = 8;
constexpr std::array<std::string_view, 4> kRooms = {"lobby", "red", "green", "blue"};
// How long the whole run may take: a bound, not an expected duration.
constexpr auto kRunDeadline = 90s;

// Problems seen inside subscriber callbacks (some run under the hub's
// mutex, where a gtest assertion has no business); reported at the end.
class Problems {
 public:
  void Add(std::string problem) {
    std::lock_guard lock(mu_);
    if (problems_.size() < 20) problems_.push_back(std::move(problem));
    ++count_;
  }
  std::vector<std::string> All() const {
    std::lock_guard lock(mu_);
    return problems_;
  }
  int count() const {
    std::lock_guard lock(mu_);
    return count_;
  }

 private:
  mutable std::mutex mu_;
  std::vector<std::string> problems_;
  int count_ = 0;
};

// Every message the room logs appended, in the order appended: the hub
// appends under its mutex and fans each message out before the next, so
// this is the order in which deliveries happened.
class Chronicle {
 public:
  void Add(EnvelopePtr envelope) {
    std::lock_guard lock(mu_);
    all_.push_back(std::move(envelope));
  }
  // How many messages a subscriber refusing `envelope` now must have been
  // offered before: everything appended so far, but for `envelope` itself
  // when it is the room message being fanned out.
  std::size_t CutoffBefore(const Envelope* envelope) const {
    std::lock_guard lock(mu_);
    return !all_.empty() && all_.back().get() == envelope ? all_.size() - 1 : all_.size();
  }
  std::vector<EnvelopePtr> All() const {
    std::lock_guard lock(mu_);
    return all_;
  }
  // An epoch for a new room log: rooms are reclaimed as they empty and made
  // again, and each life numbers its messages from 1.
  std::uint64_t NextEpoch() {
    std::lock_guard lock(mu_);
    return ++epochs_;
  }

 private:
  mutable std::mutex mu_;
  std::vector<EnvelopePtr> all_;
  std::uint64_t epochs_ = 0;
};

class ChroniclingRoomLog final : public RoomLog {
 public:
  explicit ChroniclingRoomLog(Chronicle* chronicle)
      : log_(kHistory, chronicle->NextEpoch()), chronicle_(chronicle) {}

  EnvelopePtr Append(ChatMessage message) override {
    EnvelopePtr envelope = log_.Append(std::move(message));
    chronicle_->Add(envelope);
    return envelope;
  }
  Replay Recent() const override { return log_.Recent(); }
  Replay After(std::uint64_t seq) const override { return log_.After(seq); }
  std::uint64_t last_seq() const override { return log_.last_seq(); }
  std::uint64_t epoch() const override { return log_.epoch(); }

 private:
  MemoryRoomLog log_;
  Chronicle* const chronicle_;
};

// A stream as the hub sees it. It answers kFlushNeeded the way a real
// reactor does (only when no flush is owed yet, and only some of the time:
// otherwise "a write in flight will carry it"), and it refuses for good once
// it has accepted `capacity` messages, like a stream cut off as too slow.
// It checks the Ref -> Flush -> Unref protocol as it goes.
class TestSubscriber final : public Subscriber {
 public:
  TestSubscriber(std::string name, std::optional<std::size_t> capacity, std::uint32_t seed,
                 Chronicle* chronicle, HubLockProbe* probe, Problems* problems)
      : name_(std::move(name)),
        capacity_(capacity),
        random_(seed),
        chronicle_(chronicle),
        probe_(probe),
        problems_(problems) {}

  Delivered Deliver(EnvelopePtr envelope) override {
    std::lock_guard lock(mu_);
    if (refused_ || (capacity_ && received_.size() >= *capacity_)) {
      if (!refused_) {
        refused_ = true;
        cutoff_ = chronicle_->CutoffBefore(envelope.get());
      }
      return Delivery::kRefused;
    }
    const ChatMessage& m = envelope->message;
    if (m.kind() == JOIN && !m.replay() && m.subject() == name_) room_ = m.room();
    if (m.kind() == RENAME && !m.replay() && m.user() == name_) name_ = m.subject();
    if (m.kind() == CHAT && !m.replay() && m.user() == name_) last_ack_ = m.client_msg_id();
    if (m.kind() == PRIVATE && m.subject() == name_) last_private_ = m.client_msg_id();
    if (m.kind() == ERROR) last_error_ = m.client_msg_id();
    received_.push_back(std::move(envelope));
    if (flush_owed_ || random_() % 2 == 0) return Delivery::kQueued;
    flush_owed_ = true;
    ++flushes_needed_;
    return Delivery::kFlushNeeded;
  }

  void Close(const grpc::Status&) override { problems_->Add("Close called: nobody shut down"); }
  // Never backlogged, so the hub never holds a line and never resumes.
  bool Backlogged() override { return false; }
  void Resume() override { problems_->Add(name_ + ": Resume, but no line was held"); }

  void Flush() override {
    bool probe = false;
    {
      std::lock_guard lock(mu_);
      if (refs_ <= flushes_) problems_->Add(name_ + ": Flush without a Ref held for it");
      if (!flush_owed_) problems_->Add(name_ + ": Flush that no kFlushNeeded asked for");
      flush_owed_ = false;
      ++flushes_;
      probe = flushes_ % 4 == 1;  // the first flush and every fourth after
    }
    if (probe) probe_->Check();
  }

  void Ref() override {
    std::lock_guard lock(mu_);
    if (refs_ >= flushes_needed_) problems_->Add(name_ + ": Ref that no kFlushNeeded asked for");
    ++refs_;
  }

  void Unref() override {
    std::lock_guard lock(mu_);
    if (unrefs_ >= flushes_) problems_->Add(name_ + ": Unref before its Flush");
    if (unrefs_ >= refs_) problems_->Add(name_ + ": Unref without a Ref");
    ++unrefs_;
  }

  // What the member's thread checks after each command.
  bool refused() const {
    std::lock_guard lock(mu_);
    return refused_;
  }
  std::string room() const {
    std::lock_guard lock(mu_);
    return room_;
  }
  std::string name() const {
    std::lock_guard lock(mu_);
    return name_;
  }
  std::string last_ack() const {
    std::lock_guard lock(mu_);
    return last_ack_;
  }
  std::string last_private() const {
    std::lock_guard lock(mu_);
    return last_private_;
  }
  std::string last_error() const {  // the client_msg_id of the last ERROR
    std::lock_guard lock(mu_);
    return last_error_;
  }

  // Read after every thread has finished.
  struct Record {
    std::vector<EnvelopePtr> received;  // everything accepted, in order
    bool refused;
    std::size_t cutoff;  // when refused: chronicle entries offered before that
    int flushes_needed, refs, flushes, unrefs;
    bool flush_owed;
  };
  Record record() const {
    std::lock_guard lock(mu_);
    return {received_, refused_, cutoff_, flushes_needed_, refs_, flushes_, unrefs_, flush_owed_};
  }

 private:
  mutable std::mutex mu_;
  std::string name_;  // as the hub last announced it
  std::string room_;  // where the hub last announced this member joining
  std::string last_ack_;
  std::string last_private_;
  std::string last_error_;
  const std::optional<std::size_t> capacity_;
  std::minstd_rand random_;
  std::vector<EnvelopePtr> received_;
  bool refused_ = false;
  std::size_t cutoff_ = 0;
  bool flush_owed_ = false;
  int flushes_needed_ = 0;  // kFlushNeeded answers
  int refs_ = 0, flushes_ = 0, unrefs_ = 0;
  Chronicle* const chronicle_;
  HubLockProbe* const probe_;
  Problems* const problems_;
};

// One life of a member: from Join to Leave or to being dropped.
struct Session {
  std::unique_ptr<TestSubscriber> subscriber;
  std::vector<std::string> names;  // every name it started with or renamed to
};

// What one thread saw succeed; failures are commands that had no effect
// although the member was still there.
struct Tally {
  int chats = 0, actions = 0, switches = 0, leaves_to_lobby = 0, renames = 0, rejoins = 0,
      privates = 0, drops = 0, failures = 0;
  std::vector<std::string> failed;
  void Fail(std::string what) {
    ++failures;
    if (failed.size() < 10) failed.push_back(std::move(what));
  }
};

bool SameMessage(const ChatMessage& a, const ChatMessage& b) {
  return a.SerializeAsString() == b.SerializeAsString();
}

std::string Describe(const ChatMessage& m) {
  return "#" + m.room() + " seq " + std::to_string(m.seq()) + " '" + m.message() + "'";
}

class HubConcurrencyTest : public ::testing::Test {
 protected:
  HubConcurrencyTest() : hub_(MakeOptions(&chronicle_)), probe_(hub_) {}

  static HubOptions MakeOptions(Chronicle* chronicle) {
    HubOptions options;
    options.max_message_bytes = 256;
    options.rate_limit = 0;
    // Rooms are reclaimed as their last member leaves (and made again on the
    // next join): the room lifecycle under the same threads.
    options.room_idle = Clock::duration::zero();
    options.make_room_log = [chronicle](const std::string&) {
      return std::make_unique<ChroniclingRoomLog>(chronicle);
    };
    return options;
  }

  // Drives two members of thread `t` through kStepsPerThread commands.
  void Drive(int t, std::vector<std::unique_ptr<Session>>& sessions, Tally& tally);

  Chronicle chronicle_;
  Problems problems_;
  Hub hub_;
  HubLockProbe probe_;  // after hub_: destroyed first, while the hub still exists
};

void HubConcurrencyTest::Drive(int t, std::vector<std::unique_ptr<Session>>& sessions,
                               Tally& tally) {
  std::mt19937 random(1000 + t);
  auto pick = [&random](int n) { return static_cast<int>(random() % n); };
  std::array<Session*, kMembersPerThread> slots{};
  std::array<int, kMembersPerThread> renames{};
  int session_count = 0;
  int line = 0;
  // Sometimes the flush of one command waits until after the next, as when
  // a reactor starts its next read before flushing.
  std::optional<Hub::PendingFlush> held;

  auto start = [&](int slot) {
    auto session = std::make_unique<Session>();
    const std::string name = "t" + std::to_string(t) + "m" + std::to_string(slot) + "s" +
                             std::to_string(session_count++);
    // One life in four is a slow consumer, cut off after a few messages.
    std::optional<std::size_t> capacity;
    if (pick(4) == 0) capacity = 10 + pick(150);
    session->subscriber = std::make_unique<TestSubscriber>(name, capacity, random(), &chronicle_,
                                                           &probe_, &problems_);
    session->names.push_back(name);
    const std::string room(kRooms[pick(kRooms.size())]);
    const grpc::Status status = hub_.Join(session->subscriber.get(), {name, room, {}, {}});
    if (!status.ok()) tally.Fail(name + ": join refused: " + status.error_message());
    const TestSubscriber& s = *session->subscriber;
    if (status.ok() && !s.refused() && s.room() != room) tally.Fail(name + ": not in #" + room);
    slots[slot] = session.get();
    renames[slot] = 0;
    sessions.push_back(std::move(session));
  };
  // Runs a line; afterwards `worked` says whether it had its effect, unless
  // the member was dropped meanwhile (then nothing can be said).
  auto run = [&](TestSubscriber& s, const std::string& text, const std::string& id,
                 auto&& worked) -> bool {
    Hub::PendingFlush flush = std::move(hub_.Receive(&s, text, id).flush);
    bool ok = true;
    if (!s.refused() && !worked()) {
      tally.Fail(s.name() + ": '" + text + "' had no effect");
      ok = false;
    } else if (s.refused()) {
      ok = false;
    }
    switch (pick(4)) {
      case 0:
        held.reset();
        held.emplace(std::move(flush));
        break;
      case 1:
        flush.Run();  // and its destructor has nothing left to do
        break;
      default:
        break;
    }
    return ok;
  };

  for (int slot = 0; slot < kMembersPerThread; ++slot) start(slot);
  for (int step = 0; step < kStepsPerThread; ++step) {
    const int slot = step % kMembersPerThread;
    Session& session = *slots[slot];
    TestSubscriber& s = *session.subscriber;
    const std::string id = "t" + std::to_string(t) + "-" + std::to_string(line++);
    if (s.refused()) {
      // The hub drops a member in the call that met its refusal: whoever
      // looks it up next (taking the hub's mutex after that call) misses it.
      ++tally.drops;
      TestSubscriber& other = *slots[1 - slot]->subscriber;
      if (!other.refused()) {
        run(other, "/msg " + s.name() + " still there?", id,
            [&] { return other.last_error() == id; });
      }
      start(slot);  // and come back as someone new
      continue;
    }
    const int roll = pick(100);
    if (roll < 50) {
      if (run(s, "line " + id, id, [&] { return s.last_ack() == id; })) ++tally.chats;
    } else if (roll < 55) {
      run(s, "/me waves", id, [] { return true; });
      ++tally.actions;
    } else if (roll < 70) {
      std::string room(kRooms[pick(kRooms.size())]);
      if (room == s.room()) room = room == "red" ? "blue" : "red";
      if (run(s, "/join #" + room, id, [&] { return s.room() == room; })) ++tally.switches;
    } else if (roll < 76) {
      if (s.room() != "lobby" && run(s, "/leave", id, [&] { return s.room() == "lobby"; })) {
        ++tally.leaves_to_lobby;
      }
    } else if (roll < 86) {
      // Mostly a new name; one in five times the same one in other letter case.
      std::string name = session.names.front() + "n" + std::to_string(++renames[slot]);
      if (pick(5) == 0) {
        std::string upper = s.name();
        for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        if (upper != s.name()) name = upper;
      }
      session.names.push_back(name);
      if (run(s, "/nick " + name, id, [&] { return s.name() == name; })) ++tally.renames;
    } else if (roll < 91) {
      // To this thread's other member, who gets it once, as does the sender.
      TestSubscriber& other = *slots[1 - slot]->subscriber;
      if (run(s, "/msg " + other.name() + " psst", id,
              [&] { return other.refused() || other.last_private() == id; })) {
        ++tally.privates;
      }
    } else if (roll < 94) {
      run(s, pick(2) ? "/who" : "/rooms", id, [] { return true; });
    } else {
      hub_.Leave(&s, "");
      ++tally.rejoins;
      start(slot);
    }
  }
  held.reset();
  for (Session* session : slots) hub_.Leave(session->subscriber.get(), "");
}

TEST_F(HubConcurrencyTest, EveryMemberGetsEveryMessageOfItsRoomsOnceInOrderAndRefsBalance) {
  std::vector<std::vector<std::unique_ptr<Session>>> sessions(kThreads);
  std::vector<Tally> tallies(kThreads);
  std::mutex done_mu;
  std::condition_variable done_cv;
  int done = 0;
  std::latch start(kThreads);
  std::vector<std::thread> threads;
  spdlog::set_level(spdlog::level::warn);  // not a line per dropped member
  const auto began = std::chrono::steady_clock::now();
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      start.arrive_and_wait();
      Drive(t, sessions[t], tallies[t]);
      std::lock_guard lock(done_mu);
      ++done;
      done_cv.notify_all();
    });
  }
  {
    std::unique_lock lock(done_mu);
    if (!done_cv.wait_for(lock, kRunDeadline, [&] { return done == kThreads; })) {
      // A deadlock in the hub: joining would hang, so end the program.
      std::fprintf(stderr, "hub threads did not finish within %lld s\n",
                   static_cast<long long>(kRunDeadline.count()));
      std::abort();
    }
  }
  for (auto& thread : threads) thread.join();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count();

  EXPECT_EQ(hub_.member_count(), 0u);
  for (const std::string& problem : problems_.All()) ADD_FAILURE() << problem;
  EXPECT_EQ(problems_.count(), 0);
  EXPECT_FALSE(probe_.failed()) << "a Flush ran with the hub's mutex held";
  EXPECT_GT(probe_.probes(), 0);

  // The commands really did something, on every thread.
  Tally total;
  for (int t = 0; t < kThreads; ++t) {
    const Tally& tally = tallies[t];
    for (const std::string& what : tally.failed) ADD_FAILURE() << what;
    EXPECT_EQ(tally.failures, 0) << "thread " << t;
    // At least a third of what the mix in Drive asks for (50% chat lines,
    // 15% switches, 10% renames, 6% leave and rejoin).
    EXPECT_GE(tally.chats, kStepsPerThread / 6) << "thread " << t;
    EXPECT_GE(tally.switches, kStepsPerThread / 20) << "thread " << t;
    EXPECT_GE(tally.renames, kStepsPerThread / 30) << "thread " << t;
    EXPECT_GE(tally.rejoins, kStepsPerThread / 50) << "thread " << t;
    total.chats += tally.chats;
    total.switches += tally.switches;
    total.leaves_to_lobby += tally.leaves_to_lobby;
    total.renames += tally.renames;
    total.rejoins += tally.rejoins;
    total.privates += tally.privates;
    total.drops += tally.drops;
  }
  EXPECT_GE(total.leaves_to_lobby, kStepsPerThread / 50);
  EXPECT_GE(total.privates, kStepsPerThread / 50);

  // Who is who: names are never reused, so a name tells its session.
  std::vector<Session*> all;
  for (auto& list : sessions) {
    for (auto& session : list) all.push_back(session.get());
  }
  std::map<std::string, std::size_t> owner;  // NameKey -> index in `all`
  for (std::size_t i = 0; i < all.size(); ++i) {
    for (const std::string& name : all[i]->names) owner.emplace(NameKey(name), i);
  }
  auto owner_of = [&](const std::string& name) -> std::optional<std::size_t> {
    const auto it = owner.find(NameKey(name));
    if (it == owner.end()) return std::nullopt;
    return it->second;
  };

  // Replay the chronicle: each life of a room (an epoch) numbers its
  // messages 1, 2, 3, ...; JOIN
  // and LEAVE say who is in which room, so they say what each member
  // should have been offered (its own JOIN, not its own LEAVE).
  const std::vector<EnvelopePtr> chronicle = chronicle_.All();
  const auto life = [](const ChatMessage& m) { return m.room() + "@" + std::to_string(m.epoch()); };
  std::map<std::string, std::vector<const Envelope*>> by_seq;  // life(m) -> [seq - 1]
  std::map<std::string, std::set<std::size_t>> in_room;
  std::vector<std::string> room_of(all.size());
  std::vector<std::string> last_leave(all.size());
  std::vector<std::vector<std::pair<std::size_t, const Envelope*>>> expected(all.size());
  for (std::size_t index = 0; index < chronicle.size(); ++index) {
    const ChatMessage& m = chronicle[index]->message;
    auto& numbered = by_seq[life(m)];
    ASSERT_EQ(m.seq(), numbered.size() + 1) << "numbering of " << Describe(m);
    numbered.push_back(chronicle[index].get());
    if (m.kind() == JOIN) {
      const auto who = owner_of(m.subject());
      ASSERT_TRUE(who) << Describe(m);
      EXPECT_EQ(room_of[*who], "") << Describe(m) << ": already in a room";
      room_of[*who] = m.room();
      in_room[m.room()].insert(*who);
    } else if (m.kind() == LEAVE) {
      const auto who = owner_of(m.subject());
      ASSERT_TRUE(who) << Describe(m);
      EXPECT_EQ(room_of[*who], m.room()) << Describe(m);
      room_of[*who].clear();
      in_room[m.room()].erase(*who);
      last_leave[*who] = m.message();
    } else if (m.kind() == RENAME) {
      EXPECT_EQ(owner_of(m.user()), owner_of(m.subject())) << Describe(m);
    }
    for (std::size_t who : in_room[m.room()])
      expected[who].emplace_back(index, chronicle[index].get());
  }

  // Rooms went as they emptied and came back: many lives of the four rooms.
  EXPECT_GT(by_seq.size(), 4 * kRooms.size());
  EXPECT_EQ(hub_.room_count(), 1u) << "everyone left: only the lobby is left";

  // How often consecutive room messages came from different members: a
  // measure of how much the members (and their threads) interleaved.
  int interleavings = 0;
  for (std::size_t index = 1; index < chronicle.size(); ++index) {
    interleavings += owner_of(chronicle[index]->message.user()) !=
                     owner_of(chronicle[index - 1]->message.user());
  }

  int flushes_needed = 0, refs = 0, refused = 0;
  std::size_t delivered = 0;
  for (std::size_t i = 0; i < all.size(); ++i) {
    const TestSubscriber::Record r = all[i]->subscriber->record();
    const std::string& who = all[i]->names.front();
    EXPECT_EQ(room_of[i], "") << who << " never left #" << room_of[i];
    // Dropped exactly when it refused.
    EXPECT_EQ(last_leave[i].ends_with("(disconnected)"), r.refused) << who << ": " << last_leave[i];

    // Offered live: exactly what was said in its rooms while it was there,
    // in the chronicle's order (each room's seq order); when it refused,
    // up to the refusal.
    std::vector<const Envelope*> want;
    for (const auto& [index, envelope] : expected[i]) {
      if (!r.refused || index < r.cutoff) want.push_back(envelope);
    }
    std::vector<const Envelope*> got;
    for (const EnvelopePtr& envelope : r.received) {
      if (envelope->message.seq() > 0 && !envelope->message.replay()) got.push_back(envelope.get());
    }
    delivered += got.size();
    const std::size_t common = std::min(want.size(), got.size());
    std::size_t first_difference = common;
    for (std::size_t k = 0; k < common; ++k) {
      if (got[k] != want[k]) {  // the hub hands every member the same envelope
        first_difference = k;
        break;
      }
    }
    if (first_difference < common) {
      ADD_FAILURE() << who << ": message " << first_difference << " is "
                    << Describe(got[first_difference]->message) << ", expected "
                    << Describe(want[first_difference]->message);
    } else if (got.size() != want.size()) {
      ADD_FAILURE() << who << ": got " << got.size() << " room messages, expected " << want.size()
                    << (got.size() > want.size() ? "; extra: " + Describe(got[common]->message)
                                                 : "; missing: " + Describe(want[common]->message));
    }

    // Each JOIN of its own comes after the room's recent history, replayed.
    for (std::size_t k = 0; k < r.received.size(); ++k) {
      const ChatMessage& join = r.received[k]->message;
      if (join.kind() != JOIN || join.replay() || owner_of(join.subject()) != i) continue;
      std::size_t first = k;
      while (first > 0 && r.received[first - 1]->message.replay()) --first;
      const std::uint64_t from = join.seq() > kHistory ? join.seq() - kHistory : 1;
      ASSERT_EQ(k - first, join.seq() - from) << who << ": replay before " << Describe(join);
      for (std::size_t n = first; n < k; ++n) {
        ChatMessage replayed = r.received[n]->message;
        replayed.set_replay(false);
        const Envelope* original = by_seq[life(join)][from + (n - first) - 1];
        EXPECT_TRUE(SameMessage(replayed, original->message))
            << who << ": replayed " << Describe(replayed) << " before " << Describe(join);
      }
    }

    // One Ref, one Flush and one Unref for each kFlushNeeded, none left owed.
    EXPECT_FALSE(r.flush_owed) << who << ": a kFlushNeeded was never flushed";
    EXPECT_EQ(r.refs, r.flushes_needed) << who;
    EXPECT_EQ(r.flushes, r.flushes_needed) << who;
    EXPECT_EQ(r.unrefs, r.refs) << who;
    flushes_needed += r.flushes_needed;
    refs += r.refs;
    refused += r.refused;
  }
  // The paths outside the plain kQueued case really ran.
  EXPECT_GT(refs, 0);
  EXPECT_GE(refused, kStepsPerThread / 100);
  std::printf(
      "%.2f s: %zu sessions, %zu room messages, %zu live deliveries; chats %d, switches %d, "
      "leaves %d, renames %d, rejoins %d, privates %d; dropped %d; kFlushNeeded %d, refs %d, "
      "lock probes %d; member interleavings %d\n",
      seconds, all.size(), chronicle.size(), delivered, total.chats, total.switches,
      total.leaves_to_lobby, total.renames, total.rejoins, total.privates, refused, flushes_needed,
      refs, probe_.probes(), interleavings);
}

// Presence in big rooms under threads: members join, talk, rename and leave
// one big room from several threads while another thread moves the clock
// that the hub's presence alarm runs on. An observer that stays throughout
// keeps the room's member list from the events alone (JOIN, LEAVE, RENAME,
// PRESENCE); at the end it must be exactly the room (/who), nobody may have
// spoken before the room heard they came, and every member's room messages
// must be contiguous.
class PresenceTracker final : public testing::PassiveSubscriber {
 public:
  explicit PresenceTracker(std::string name) : name_(std::move(name)) {}

  Delivered Deliver(EnvelopePtr envelope) override {
    std::lock_guard lock(mu_);
    const ChatMessage& m = envelope->message;
    if (m.replay()) return Delivery::kQueued;
    if (!joined_) {
      // Before its own JOIN: the welcome (and history, skipped above).
      if (m.kind() == JOIN && m.subject() == name_) {
        joined_ = true;
        last_seq_ = m.seq();  // 0 when the join is held: the next room message starts
        members_.insert(NameKey(name_));
      }
      return Delivery::kQueued;
    }
    if (m.seq() > 0) {
      if (last_seq_ != 0 && m.seq() != last_seq_ + 1) ++gaps_;
      last_seq_ = m.seq();
    }
    switch (m.kind()) {
      case JOIN:
        members_.insert(NameKey(m.subject()));
        break;
      case LEAVE:
        members_.erase(NameKey(m.subject()));
        break;
      case RENAME:
        if (m.user() == name_) name_ = m.subject();
        members_.erase(NameKey(m.user()));
        members_.insert(NameKey(m.subject()));
        break;
      case PRESENCE:
        ++presence_events_;
        for (const std::string& name : m.joined()) members_.insert(NameKey(name));
        for (const std::string& name : m.left()) members_.erase(NameKey(name));
        break;
      case CHAT:
      case ACTION:
        if (!members_.contains(NameKey(m.user()))) ++unannounced_;
        break;
      case NOTICE:
        last_notice_ = m.message();
        break;
      default:
        break;
    }
    return Delivery::kQueued;
  }

  struct Seen {
    std::set<std::string> members;
    int gaps, unannounced, presence_events;
    std::string last_notice;
  };
  Seen seen() const {
    std::lock_guard lock(mu_);
    return {members_, gaps_, unannounced_, presence_events_, last_notice_};
  }

 private:
  mutable std::mutex mu_;
  std::string name_;
  bool joined_ = false;
  std::uint64_t last_seq_ = 0;
  std::set<std::string> members_;  // NameKey
  int gaps_ = 0, unannounced_ = 0, presence_events_ = 0;
  std::string last_notice_;
};

TEST(HubPresenceConcurrencyTest, AnObserversListFromTheEventsIsTheRoomAndNobodySpeaksUnannounced) {
  constexpr int kPresenceThreads = 4;
  constexpr int kSteps = 400;
  testing::ManualClock clock;
  PresenceTracker observer("observer");
  std::vector<std::unique_ptr<PresenceTracker>> trackers;  // outlive the hub
  std::mutex trackers_mu;
  HubOptions options;
  options.max_message_bytes = 256;
  options.rate_limit = 0;
  options.make_room_log = [](const std::string&) {
    return std::make_unique<MemoryRoomLog>(kHistory, 7);
  };
  options.presence = {5, 50ms, &clock};
  Hub hub(options);
  spdlog::set_level(spdlog::level::warn);

  ASSERT_TRUE(hub.Join(&observer, {"observer", "big", {}, {}}).ok());
  std::atomic<bool> stop{false};
  std::thread ticker([&] {
    while (!stop.load()) {
      clock.Advance(20ms);
      std::this_thread::yield();
    }
  });
  std::latch start(kPresenceThreads);
  std::vector<std::thread> threads;
  std::atomic<int> joins{0}, leaves{0}, renames{0}, lines{0};
  for (int t = 0; t < kPresenceThreads; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937 random(2000 + t);
      std::vector<PresenceTracker*> mine;
      int made = 0;
      start.arrive_and_wait();
      for (int step = 0; step < kSteps; ++step) {
        const int dice = static_cast<int>(random() % 100);
        if (mine.size() < 3 || dice < 25) {
          const std::string name = "t" + std::to_string(t) + "n" + std::to_string(made++);
          auto tracker = std::make_unique<PresenceTracker>(name);
          PresenceTracker* raw = tracker.get();
          {
            std::lock_guard lock(trackers_mu);
            trackers.push_back(std::move(tracker));
          }
          if (hub.Join(raw, {name, "big", {}, {}}).ok()) {
            mine.push_back(raw);
            ++joins;
          }
          continue;
        }
        PresenceTracker* who = mine[random() % mine.size()];
        if (dice < 50) {
          hub.Leave(who, "");
          std::erase(mine, who);
          ++leaves;
        } else if (dice < 60) {
          hub.Receive(who, "/nick t" + std::to_string(t) + "r" + std::to_string(made++), "");
          ++renames;
        } else {
          hub.Receive(who, dice < 90 ? "hello" : "/me waves", "");
          ++lines;
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  stop = true;
  ticker.join();
  clock.Advance(1s);  // everything held is announced

  hub.Receive(&observer, "/who", "");
  const PresenceTracker::Seen seen = observer.seen();
  // "N in #big: a, b, c"
  const std::string& who = seen.last_notice;
  const std::size_t colon = who.find(": ");
  ASSERT_NE(colon, std::string::npos) << who;
  std::set<std::string> room;
  for (std::size_t at = colon + 2; at <= who.size();) {
    const std::size_t comma = std::min(who.find(", ", at), who.size());
    room.insert(NameKey(who.substr(at, comma - at)));
    at = comma + 2;
  }
  EXPECT_EQ(seen.members, room) << who;
  EXPECT_EQ(seen.gaps, 0);
  EXPECT_EQ(seen.unannounced, 0) << "a line reached the room before the news of its sender";
  EXPECT_GT(seen.presence_events, 0);
  for (const auto& tracker : trackers) {
    const PresenceTracker::Seen member = tracker->seen();
    EXPECT_EQ(member.gaps, 0);
  }
  EXPECT_GT(joins.load(), kPresenceThreads * kSteps / 5);
  EXPECT_GT(leaves.load(), kPresenceThreads * kSteps / 10);
  EXPECT_GT(renames.load(), kPresenceThreads * kSteps / 40);
  EXPECT_GT(lines.load(), kPresenceThreads * kSteps / 10);
  std::printf("presence: %d joins, %d leaves, %d renames, %d lines, %d PRESENCE events seen\n",
              joins.load(), leaves.load(), renames.load(), lines.load(), seen.presence_events);
}
}  // namespace
}  // namespace chat
