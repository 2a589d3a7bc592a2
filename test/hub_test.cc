#include "server/hub.h"

#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <optional>
#include <vector>

#include "server/memory_room_log.h"
#include "test/support/hub_lock_probe.h"

namespace chat {
namespace {

// Records what the hub delivers; refuses once `capacity` messages are held.
class FakeSubscriber : public Subscriber {
 public:
  explicit FakeSubscriber(std::size_t capacity = 100000) : capacity_(capacity) {}

  Delivery Deliver(EnvelopePtr envelope) override {
    if (closed_ || received.size() >= capacity_) {
      closed_ = true;
      return Delivery::kRefused;
    }
    received.push_back(envelope->message);
    // Ask for a flush now and then, as a real stream does when idle.
    return received.size() % 3 == 0 ? Delivery::kFlushNeeded : Delivery::kQueued;
  }
  void Close(const grpc::Status& status) override {
    closed_ = true;
    close_status = status;
  }
  void Flush() override { ++flushes; }
  void Ref() override { ++refs; }
  void Unref() override { --refs; }
  int flushes = 0;
  int refs = 0;

  std::vector<ChatMessage> OfKind(Kind kind) const {
    std::vector<ChatMessage> out;
    for (const auto& m : received) {
      if (m.kind() == kind) out.push_back(m);
    }
    return out;
  }
  std::vector<std::string> Texts(Kind kind) const {
    std::vector<std::string> out;
    for (const auto& m : OfKind(kind)) out.push_back(m.message());
    return out;
  }
  const ChatMessage& Last() const { return received.back(); }

  std::vector<ChatMessage> received;
  std::optional<grpc::Status> close_status;

 private:
  std::size_t capacity_;
  bool closed_ = false;
};

class HubTest : public ::testing::Test {
 protected:
  explicit HubTest(std::size_t history = 5)
      : hub_(HubOptions{64, 0, [history](const std::string&) {
                          return std::make_unique<MemoryRoomLog>(history, 7);
                        }}) {}

  void Join(FakeSubscriber& s, const std::string& name, const std::string& room = "",
            std::optional<std::uint64_t> resume = std::nullopt) {
    JoinRequest request{name, room, resume, std::nullopt};
    if (resume) request.resume_epoch = 7;
    ASSERT_TRUE(hub_.Join(&s, request).ok());
  }

  Hub hub_;
};

TEST_F(HubTest, EveryMemberGetsEveryMessageOnceInOneOrder) {
  FakeSubscriber a, b, c;
  Join(a, "a");
  Join(b, "b");
  Join(c, "c");
  for (int i = 0; i < 20; ++i) {
    hub_.Receive(i % 2 ? &a : &b, "m" + std::to_string(i), "");
  }
  const auto expected = a.OfKind(CHAT);
  ASSERT_EQ(expected.size(), 20u);
  for (const FakeSubscriber* s : {&b, &c}) {
    const auto got = s->OfKind(CHAT);
    ASSERT_EQ(got.size(), expected.size());
    for (std::size_t i = 0; i < got.size(); ++i) {
      EXPECT_EQ(got[i].message(), expected[i].message());
      EXPECT_EQ(got[i].seq(), expected[i].seq());
      if (i > 0) {
        EXPECT_EQ(got[i].seq(), got[i - 1].seq() + 1);
      }
    }
  }
}

// Counts the flush protocol and checks, inside each Flush, that another
// thread can take the hub's mutex meanwhile: it could not if the flushing
// thread held it.
class LockProbingSubscriber : public FakeSubscriber {
 public:
  explicit LockProbingSubscriber(const Hub& hub) : probe(hub) {}

  Delivery Deliver(EnvelopePtr envelope) override {
    const Delivery delivery = FakeSubscriber::Deliver(std::move(envelope));
    if (delivery == Delivery::kFlushNeeded) ++flushes_needed;
    return delivery;
  }
  void Ref() override {
    ++ref_calls;
    FakeSubscriber::Ref();
  }
  void Unref() override {
    ++unref_calls;
    FakeSubscriber::Unref();
  }
  void Flush() override {
    FakeSubscriber::Flush();
    if (refs <= 0) ++flushes_without_ref;
    probe.Check();
  }

  int flushes_needed = 0;
  int ref_calls = 0;
  int unref_calls = 0;
  int flushes_without_ref = 0;
  testing::HubLockProbe probe;
};

TEST_F(HubTest, FlushesAreCalledOutsideTheLockAndBalanced) {
  LockProbingSubscriber a(hub_), b(hub_);
  Join(a, "alice");
  Join(b, "bob");
  for (int i = 0; i < 10; ++i) hub_.Receive(&a, "m" + std::to_string(i), "");
  hub_.Receive(&b, "/join dev", "");
  hub_.Leave(&b, "");
  // Receive leaves the flushes to its result: nothing is flushed until it runs.
  std::vector<Hub::PendingFlush> pending;
  const int flushes_before = a.flushes;
  for (int i = 0; i < 3; ++i) pending.push_back(hub_.Receive(&a, "held" + std::to_string(i), ""));
  EXPECT_EQ(a.flushes, flushes_before);
  EXPECT_EQ(a.flushes_needed - a.flushes, 1);  // one in three messages asks for a flush
  pending.clear();
  for (const LockProbingSubscriber* s : {&a, &b}) {
    EXPECT_GT(s->flushes_needed, 0);
    EXPECT_EQ(s->flushes, s->flushes_needed);    // one Flush per kFlushNeeded
    EXPECT_EQ(s->ref_calls, s->flushes_needed);  // each with its own reference...
    EXPECT_EQ(s->unref_calls, s->ref_calls);     // released once
    EXPECT_EQ(s->refs, 0);
    EXPECT_EQ(s->flushes_without_ref, 0);  // held through the Flush
    EXPECT_FALSE(s->probe.failed()) << "a Flush ran with the hub's mutex held";
    EXPECT_EQ(s->probe.probes(), s->flushes);
  }
}

TEST_F(HubTest, SenderIsStampedAndGetsItsOwnMessageWithItsId) {
  FakeSubscriber a, b;
  Join(a, "alice");
  Join(b, "bob");
  hub_.Receive(&a, "hi", "id-1");
  EXPECT_EQ(a.Last().user(), "alice");
  EXPECT_EQ(a.Last().client_msg_id(), "id-1");
  EXPECT_GT(a.Last().seq(), 0u);
  EXPECT_EQ(b.Last().user(), "alice");
  EXPECT_EQ(b.Last().message(), "hi");
}

TEST_F(HubTest, NamesAreUniqueIgnoringCaseAndFollowTheRules) {
  FakeSubscriber a, b, c;
  Join(a, "Alice");
  EXPECT_EQ(hub_.Join(&b, {"alice", "", {}}).error_code(), grpc::StatusCode::ALREADY_EXISTS);
  EXPECT_EQ(hub_.Join(&c, {"", "", {}}).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(hub_.Join(&c, {"a b", "", {}}).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(hub_.Join(&c, {"carol", "bad room!", {}}).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  const grpc::Status escaped = hub_.Join(&c, {"\x1b[2Jevil\xff", "", {}});
  EXPECT_EQ(escaped.error_message().find('\x1b'), std::string::npos);
  EXPECT_NE(escaped.error_message().find("^[[2Jevil"), std::string::npos);
  EXPECT_TRUE(b.received.empty());
  EXPECT_EQ(hub_.member_count(), 1u);
}

TEST_F(HubTest, JoinLeaveAndRenameAreAnnouncedToTheRoom) {
  FakeSubscriber a, b;
  Join(a, "alice");
  Join(b, "bob");
  EXPECT_EQ(a.Last().kind(), JOIN);
  EXPECT_EQ(a.Last().message(), "bob joined #lobby");
  hub_.Receive(&b, "/nick robert", "");
  EXPECT_EQ(a.Last().kind(), RENAME);
  EXPECT_EQ(a.Last().message(), "bob is now known as robert");
  hub_.Receive(&b, "after", "");
  EXPECT_EQ(a.Last().user(), "robert");
  hub_.Leave(&b, "");
  EXPECT_EQ(a.Last().kind(), LEAVE);
  EXPECT_EQ(a.Last().message(), "robert left #lobby");
  // The old name is free again after leaving.
  FakeSubscriber c;
  Join(c, "robert");
}

TEST_F(HubTest, RoomsAreSeparate) {
  FakeSubscriber a, b;
  Join(a, "alice");
  Join(b, "bob", "#Dev");
  hub_.Receive(&b, "in dev", "");
  EXPECT_TRUE(a.Texts(CHAT).empty());
  EXPECT_EQ(b.Last().room(), "dev");
  hub_.Receive(&a, "/join dev", "");
  hub_.Receive(&a, "hello dev", "");
  EXPECT_EQ(b.Last().message(), "hello dev");
  hub_.Receive(&a, "/leave", "");
  EXPECT_EQ(b.Last().message(), "alice left #dev");
  hub_.Receive(&a, "/leave", "");
  EXPECT_EQ(a.Last().kind(), ERROR);
}

TEST_F(HubTest, JoiningMemberGetsTheLastNMessagesAsReplay) {
  FakeSubscriber a, late;
  Join(a, "alice");
  for (int i = 0; i < 8; ++i) hub_.Receive(&a, "m" + std::to_string(i), "");
  Join(late, "late");
  std::vector<ChatMessage> replayed;
  for (const auto& m : late.received) {
    if (m.replay()) replayed.push_back(m);
  }
  ASSERT_EQ(replayed.size(), 5u);  // history length 5
  EXPECT_EQ(replayed.back().message(), "m7");
  EXPECT_EQ(replayed.front().message(), "m3");
}

TEST_F(HubTest, ResumeGivesExactlyTheMissedMessages) {
  FakeSubscriber a, b1, b2;
  Join(a, "alice");
  Join(b1, "bob");
  hub_.Receive(&a, "one", "");
  const std::uint64_t seen = b1.Last().seq();
  hub_.Leave(&b1, "");
  hub_.Receive(&a, "two", "");
  hub_.Receive(&a, "three", "");
  Join(b2, "bob", "", seen);
  std::vector<std::string> replayed;
  for (const auto& m : b2.received) {
    if (m.replay()) replayed.push_back(m.message());
  }
  // What bob missed: his own leave notice, "two" and "three"; nothing before.
  EXPECT_EQ(replayed, (std::vector<std::string>{"bob left #lobby", "two", "three"}));
  EXPECT_TRUE(b2.OfKind(GAP).empty());
}

TEST_F(HubTest, ResumeBeyondHistoryReportsHowManyWereMissed) {
  FakeSubscriber a, b1, b2;
  Join(a, "alice");
  Join(b1, "bob");
  const std::uint64_t seen = b1.Last().seq();
  hub_.Leave(&b1, "");
  for (int i = 0; i < 10; ++i) hub_.Receive(&a, "m" + std::to_string(i), "");
  Join(b2, "bob", "", seen);
  const auto gaps = b2.OfKind(GAP);
  ASSERT_EQ(gaps.size(), 1u);
  // 11 messages after `seen` (a leave notice + 10); history keeps 5.
  EXPECT_EQ(gaps[0].message(), "you missed 6 messages in #lobby that are no longer in history");
  EXPECT_EQ(gaps[0].seq(), seen + 6);
}

TEST_F(HubTest, ResumeFromAnotherEpochGetsAGapAndTheWholeHistory) {
  FakeSubscriber a, b;
  Join(a, "alice");
  hub_.Receive(&a, "one", "");
  ASSERT_TRUE(hub_.Join(&b, JoinRequest{"bob", "", 1, 12345}).ok());
  const auto gaps = b.OfKind(GAP);
  ASSERT_EQ(gaps.size(), 1u);
  EXPECT_EQ(gaps[0].seq(), 0u);
  EXPECT_EQ(gaps[0].epoch(), 7u);
  std::vector<std::string> replayed;
  for (const auto& m : b.received) {
    if (m.replay()) replayed.push_back(m.message());
  }
  EXPECT_EQ(replayed, (std::vector<std::string>{"alice joined #lobby", "one"}));
}

// The restart case of issue 12: after a restart, other clients' lines fill
// the new life's history before a slow client comes back. It must hear
// that messages are lost on both sides of the restart, and from which seq
// the replay starts, and its position must move there (GAP seq).
TEST_F(HubTest, ResumeFromAnotherEpochAfterHistoryRolledSaysWhatIsLostAndWhereTheReplayStarts) {
  FakeSubscriber a, b;
  Join(a, "alice");  // seq 1: alice's JOIN
  for (int i = 2; i <= 9; ++i) hub_.Receive(&a, "m" + std::to_string(i), "");
  // History holds the last 5: seq 5..9. Seq 1..4 of this life are gone.
  ASSERT_TRUE(hub_.Join(&b, JoinRequest{"bob", "", 314, 12345}).ok());
  const auto gaps = b.OfKind(GAP);
  ASSERT_EQ(gaps.size(), 1u);
  EXPECT_EQ(gaps[0].seq(), 4u);
  EXPECT_EQ(gaps[0].epoch(), 7u);
  EXPECT_EQ(gaps[0].message(),
            "the history of #lobby was discarded (the room was empty for a while, or the server "
            "restarted): what you missed before that is lost, and the first 4 messages since are "
            "no longer in history either; showing it from seq 5");
  std::vector<std::uint64_t> replayed;
  for (const auto& m : b.received) {
    if (m.replay()) replayed.push_back(m.seq());
  }
  EXPECT_EQ(replayed, (std::vector<std::uint64_t>{5, 6, 7, 8, 9}));
}

TEST_F(HubTest, PrivateMessagesReachOnlyTheRecipientAndTheSender) {
  FakeSubscriber a, b, c;
  Join(a, "alice");
  Join(b, "bob");
  Join(c, "carol");
  hub_.Receive(&a, "/msg BOB psst", "p1");
  EXPECT_EQ(b.Last().kind(), PRIVATE);
  EXPECT_EQ(b.Last().message(), "psst");
  EXPECT_EQ(b.Last().user(), "alice");
  EXPECT_EQ(a.Last().subject(), "bob");
  EXPECT_EQ(a.Last().client_msg_id(), "p1");
  EXPECT_TRUE(c.OfKind(PRIVATE).empty());
  hub_.Receive(&a, "/msg nobody hi", "");
  EXPECT_EQ(a.Last().kind(), ERROR);
}

// A clock that moves only when told to (flood control's time).
class SteppedClock final : public Clock {
 public:
  time_point Now() const override { return now_; }
  void Advance(duration by) { now_ += by; }

 private:
  time_point now_{};
};

// Many senders, each within its own flood limit, aim /msg at one user: the
// recipient takes as many a second as one user may send (the burst first),
// the senders beyond that get an ERROR carrying their line's id, and the
// recipient is never refused or dropped.
TEST(HubPrivateLimitTest, ManySendersCannotFloodOneRecipientWithPrivateMessages) {
  SteppedClock clock;
  constexpr double kRate = 2;  // a burst of FloodBurst(2) = 10
  Hub hub(HubOptions{
      64, kRate, [](const std::string&) { return std::make_unique<MemoryRoomLog>(5, 7); }, &clock});
  FakeSubscriber victim;
  ASSERT_TRUE(hub.Join(&victim, JoinRequest{"victim", "", std::nullopt, std::nullopt}).ok());
  constexpr int kSenders = 12;
  std::vector<FakeSubscriber> senders(kSenders + 1);
  for (int i = 0; i <= kSenders; ++i) {
    ASSERT_TRUE(
        hub.Join(&senders[i], JoinRequest{"s" + std::to_string(i), "", std::nullopt, std::nullopt})
            .ok());
  }
  auto send = [&](int i) {
    hub.Receive(&senders[i], "/msg victim hello from " + std::to_string(i),
                "id" + std::to_string(i));
  };
  for (int i = 0; i < kSenders; ++i) send(i);
  EXPECT_EQ(victim.OfKind(PRIVATE).size(), 10u);
  for (int i = 0; i < kSenders; ++i) {
    const ChatMessage& answer = senders[i].Last();
    EXPECT_EQ(answer.client_msg_id(), "id" + std::to_string(i));
    if (i < 10) {
      EXPECT_EQ(answer.kind(), PRIVATE) << i;
    } else {
      EXPECT_EQ(answer.kind(), ERROR) << i;
      EXPECT_EQ(answer.message(),
                "not sent: victim is getting too many private messages right now; try again in a "
                "moment");
    }
  }
  // One more each 1/rate; the victim is still a member throughout.
  clock.Advance(std::chrono::milliseconds(500));
  send(kSenders);
  EXPECT_EQ(senders[kSenders].Last().kind(), PRIVATE);
  EXPECT_EQ(victim.OfKind(PRIVATE).size(), 11u);
  EXPECT_EQ(hub.member_count(), kSenders + 2u);
}

TEST_F(HubTest, BadInputGetsAnErrorEventAndNothingElse) {
  FakeSubscriber a, b;
  Join(a, "alice");
  Join(b, "bob");
  const std::size_t before = b.received.size();
  hub_.Receive(&a, std::string(65, 'x'), "");
  EXPECT_EQ(a.Last().kind(), ERROR);
  EXPECT_EQ(a.Last().message(), "not sent: message is 65 bytes; the limit is 64");
  hub_.Receive(&a, std::string(65, 'y'), "id-9");  // the error names the refused line
  EXPECT_EQ(a.Last().kind(), ERROR);
  EXPECT_EQ(a.Last().client_msg_id(), "id-9");
  hub_.Receive(&a, "\xff\xfe", "");
  EXPECT_EQ(a.Last().kind(), ERROR);
  hub_.Receive(&a, "\x1b]0;pwned\x07", "");
  EXPECT_EQ(a.Last().kind(), ERROR);
  hub_.Receive(&a, "/bogus", "");
  EXPECT_EQ(a.Last().kind(), ERROR);
  hub_.Receive(&a, "/nick bad name", "");
  EXPECT_EQ(a.Last().kind(), ERROR);
  hub_.Receive(&a, "/nick BOB", "");
  EXPECT_EQ(a.Last().kind(), ERROR);
  EXPECT_EQ(b.received.size(), before);
  hub_.Receive(&a, "fine", "");
  EXPECT_EQ(b.Last().message(), "fine");
}

TEST_F(HubTest, WhoAndRoomsList) {
  FakeSubscriber a, b, c;
  Join(a, "alice");
  Join(b, "bob");
  Join(c, "carol", "dev");
  hub_.Receive(&a, "/who", "");
  EXPECT_EQ(a.Last().message(), "2 in #lobby: alice, bob");
  hub_.Receive(&a, "/rooms", "");
  EXPECT_EQ(a.Last().message(), "rooms: #dev (1), #lobby (2)");
}

TEST_F(HubTest, RefusingSubscriberIsDroppedAndOthersKeepReceiving) {
  FakeSubscriber a, b;
  FakeSubscriber slow(5);
  Join(a, "alice");
  Join(b, "bob");
  Join(slow, "slow");
  for (int i = 0; i < 10; ++i) hub_.Receive(&a, "m" + std::to_string(i), "");
  EXPECT_EQ(hub_.member_count(), 2u);
  EXPECT_EQ(b.Texts(CHAT).size(), 10u);
  const auto leaves = b.Texts(LEAVE);
  ASSERT_EQ(leaves.size(), 1u);
  EXPECT_EQ(leaves[0], "slow left #lobby (disconnected)");
}

TEST_F(HubTest, ShutdownClosesEveryStreamWithUnavailable) {
  FakeSubscriber a, b;
  Join(a, "alice");
  Join(b, "bob");
  hub_.Shutdown();
  ASSERT_TRUE(a.close_status);
  EXPECT_EQ(a.close_status->error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(b.close_status->error_code(), grpc::StatusCode::UNAVAILABLE);
  FakeSubscriber late;
  EXPECT_EQ(hub_.Join(&late, {"late", "", {}}).error_code(), grpc::StatusCode::UNAVAILABLE);
}

}  // namespace
}  // namespace chat
