#include "server/hub.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <future>
#include <iostream>
#include <optional>
#include <stdexcept>
#include <vector>

#include "server/memory_room_log.h"
#include "test/support/hub_lock_probe.h"
#include "test/support/manual_clock.h"
#include "test/support/passive_subscriber.h"

namespace chat {
namespace {

// Records what the hub delivers; refuses once `capacity` messages are held.
class FakeSubscriber : public Subscriber {
 public:
  explicit FakeSubscriber(std::size_t capacity = 100000) : capacity_(capacity) {}

  Delivered Deliver(EnvelopePtr envelope) override {
    if (closed_ || received.size() >= capacity_) {
      closed_ = true;
      return Delivery::kRefused;
    }
    received.push_back(envelope->message);
    // Ask for a flush now and then, as a real stream does when idle.
    return {received.size() % 3 == 0 ? Delivery::kFlushNeeded : Delivery::kQueued, backlogged};
  }
  bool Backlogged() override { return backlogged; }
  void Resume() override { ++resumes; }
  bool backlogged = false;  // what Deliver and Backlogged report
  int resumes = 0;
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

  Delivered Deliver(EnvelopePtr envelope) override {
    const Delivered delivered = FakeSubscriber::Deliver(std::move(envelope));
    if (delivered.delivery == Delivery::kFlushNeeded) ++flushes_needed;
    return delivered;
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
  for (int i = 0; i < 3; ++i)
    pending.push_back(hub_.Receive(&a, "held" + std::to_string(i), "").flush);
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

// Readers: streams that connect without a name (docs/protocol.md, "Readers").
class HubReaderTest : public HubTest {
 protected:
  void Listen(FakeSubscriber& s, const std::string& room = "") {
    ASSERT_TRUE(hub_.Listen(&s, JoinRequest{"", room, std::nullopt, std::nullopt}).ok());
  }
};

TEST_F(HubReaderTest, AReaderGetsTheHistoryAndTheRoomUnannounced) {
  FakeSubscriber alice, reader;
  Join(alice, "alice");
  hub_.Receive(&alice, "before", "");
  Listen(reader);
  hub_.Receive(&alice, "after", "");
  ASSERT_EQ(reader.received.size(), 3u);
  EXPECT_TRUE(reader.received[0].replay());  // alice's JOIN, from history
  EXPECT_EQ(reader.received[1].message(), "before");
  EXPECT_TRUE(reader.received[1].replay());
  EXPECT_EQ(reader.received[2].message(), "after");
  EXPECT_FALSE(reader.received[2].replay());
  // Nobody heard of the reader: no JOIN, no LEAVE.
  hub_.Leave(&reader, "");
  EXPECT_EQ(alice.OfKind(JOIN).size(), 1u);
  EXPECT_TRUE(alice.OfKind(LEAVE).empty());
}

TEST_F(HubReaderTest, WhoCountsReadersAndRoomsCountThem) {
  FakeSubscriber alice, r1, r2;
  Join(alice, "alice");
  Listen(r1);
  Listen(r2);
  hub_.Receive(&alice, "/who", "");
  EXPECT_EQ(alice.Last().message(), "3 in #lobby: alice, and 2 readers");
  hub_.Receive(&alice, "/rooms", "");
  EXPECT_EQ(alice.Last().message(), "rooms: #lobby (3)");
  hub_.Leave(&r2, "");
  hub_.Receive(&alice, "/who", "");
  EXPECT_EQ(alice.Last().message(), "2 in #lobby: alice, and 1 reader");
}

TEST_F(HubReaderTest, NamingAReaderWelcomesAndAnnouncesItWithoutReplayingHistoryAgain) {
  FakeSubscriber alice, reader;
  Join(alice, "alice");
  hub_.Receive(&alice, "hello", "");
  Listen(reader);
  const std::size_t before = reader.received.size();
  Join(reader, "bob");
  ASSERT_EQ(reader.received.size(), before + 2);
  EXPECT_EQ(reader.received[before].message(), "welcome, bob; type /help for the list of commands");
  EXPECT_EQ(reader.received[before + 1].kind(), JOIN);
  EXPECT_EQ(reader.received[before + 1].subject(), "bob");
  EXPECT_EQ(alice.Last().message(), "bob joined #lobby");
  // Named now: it can be written to, and it is listed.
  hub_.Receive(&alice, "/msg bob hi", "");
  EXPECT_EQ(reader.Last().kind(), PRIVATE);
  hub_.Receive(&alice, "/who", "");
  EXPECT_EQ(alice.Last().message(), "2 in #lobby: alice, bob");
}

TEST_F(HubReaderTest, AReaderNamedIntoAnotherRoomMovesThereWithThatRoomsHistory) {
  FakeSubscriber alice, carol, reader;
  Join(alice, "alice");
  Join(carol, "carol", "dev");
  hub_.Receive(&carol, "in dev", "");
  Listen(reader);
  Join(reader, "bob", "dev");
  const auto replayed =
      std::count_if(reader.received.begin(), reader.received.end(),
                    [](const ChatMessage& m) { return m.replay() && m.message() == "in dev"; });
  EXPECT_EQ(replayed, 1);
  EXPECT_EQ(carol.Last().message(), "bob joined #dev");
  EXPECT_EQ(alice.Texts(JOIN).size(), 1u);  // only her own: the lobby never heard of bob
  hub_.Receive(&alice, "/who", "");
  EXPECT_EQ(alice.Last().message(), "1 in #lobby: alice");
}

TEST_F(HubReaderTest, AReaderWhoseNameIsTakenStaysAReader) {
  FakeSubscriber alice, reader;
  Join(alice, "alice");
  Listen(reader);
  EXPECT_EQ(hub_.Join(&reader, {"Alice", "", {}, {}}).error_code(),
            grpc::StatusCode::ALREADY_EXISTS);
  hub_.Receive(&alice, "still here", "");
  EXPECT_EQ(reader.Last().message(), "still here");
  hub_.Receive(&alice, "/who", "");
  EXPECT_EQ(alice.Last().message(), "2 in #lobby: alice, and 1 reader");
}

TEST_F(HubReaderTest, ASlowReaderIsDroppedSilently) {
  FakeSubscriber alice, bob;
  FakeSubscriber slow(3);
  Join(alice, "alice");
  Join(bob, "bob");
  Listen(slow);
  for (int i = 0; i < 5; ++i) hub_.Receive(&alice, "m" + std::to_string(i), "");
  EXPECT_EQ(hub_.member_count(), 2u);
  EXPECT_TRUE(bob.OfKind(LEAVE).empty());
  EXPECT_EQ(bob.Texts(CHAT).size(), 5u);
}

// Overload (docs/architecture.md, "Overload"): while most of a room's
// members are backlogged, its senders' lines are held, not its readers cut.
class HubOverloadTest : public HubTest {
 protected:
  void SetUp() override {
    Join(alice, "alice");
    for (FakeSubscriber* reader : {&b, &c, &d}) {
      Join(*reader, "r" + std::to_string(reader - &b));
    }
  }
  // Marks the subscribers backlogged; the hub learns it on their next delivery.
  static void Backlog(std::initializer_list<FakeSubscriber*> subscribers) {
    for (FakeSubscriber* s : subscribers) s->backlogged = true;
  }
  FakeSubscriber alice, b, c, d;
};

TEST_F(HubOverloadTest, ARoomWithMostMembersBackloggedHoldsItsSendersLinesUntilItCatchesUp) {
  Backlog({&b, &c, &d});
  EXPECT_FALSE(hub_.Receive(&alice, "tells the hub", "").held);
  const Hub::Receipt receipt = hub_.Receive(&alice, "held back", "id1");
  EXPECT_TRUE(receipt.held);
  for (const FakeSubscriber* s : {&alice, &b, &c, &d}) {
    EXPECT_EQ(s->Texts(CHAT), std::vector<std::string>{"tells the hub"});
  }
  ASSERT_EQ(alice.OfKind(NOTICE).size(), 2u);  // the welcome, then why
  EXPECT_EQ(alice.Last().message(),
            "#lobby is busy: the server is sending faster than its members can read, so it takes "
            "your lines more slowly until they catch up; nothing is lost");
  EXPECT_EQ(alice.resumes, 0);

  // One drains: two of four are still backlogged, not most.
  b.backlogged = false;
  hub_.Drained(&b);
  EXPECT_EQ(alice.resumes, 1);
  for (const FakeSubscriber* s : {&alice, &b, &c, &d}) {
    EXPECT_EQ(s->Texts(CHAT), (std::vector<std::string>{"tells the hub", "held back"}));
  }
  EXPECT_EQ(alice.Last().client_msg_id(), "id1");
  EXPECT_EQ(hub_.member_count(), 4u) << "nobody was cut";
}

TEST_F(HubOverloadTest, OneOrAFewSlowReadersAreNotCongestion) {
  Backlog({&b, &c});  // two of four: not most
  for (int i = 0; i < 5; ++i) {
    EXPECT_FALSE(hub_.Receive(&alice, "m" + std::to_string(i), "").held);
  }
  EXPECT_EQ(d.Texts(CHAT).size(), 5u);
}

TEST_F(HubOverloadTest, OnlyChatLinesAreHeldBack) {
  Backlog({&b, &c, &d});
  hub_.Receive(&alice, "tells the hub", "");
  EXPECT_FALSE(hub_.Receive(&alice, "/who", "").held);
  EXPECT_EQ(alice.Last().message(), "4 in #lobby: alice, r0, r1, r2");
  EXPECT_FALSE(hub_.Receive(&alice, "/msg r2 psst", "").held);
  EXPECT_EQ(d.Last().kind(), PRIVATE);
  EXPECT_TRUE(hub_.Receive(&alice, "/me waves", "").held);
}

TEST_F(HubOverloadTest, AHeldSenderThatLeavesLosesOnlyItsLineAndTheRoomGoesOn) {
  FakeSubscriber bob;
  Join(bob, "bob");  // five members: three backlogged is most
  Backlog({&b, &c, &d});
  hub_.Receive(&alice, "tells the hub", "");
  ASSERT_TRUE(hub_.Receive(&alice, "alice's", "").held);
  ASSERT_TRUE(hub_.Receive(&bob, "bob's", "").held);
  hub_.Leave(&alice, "");
  b.backlogged = false;
  hub_.Drained(&b);
  EXPECT_EQ(alice.resumes, 0);
  EXPECT_EQ(bob.resumes, 1);
  EXPECT_EQ(d.Texts(CHAT), (std::vector<std::string>{"tells the hub", "bob's"}));
}

TEST_F(HubOverloadTest, RemovingBackloggedMembersEndsTheCongestion) {
  Backlog({&b, &c, &d});
  hub_.Receive(&alice, "tells the hub", "");
  ASSERT_TRUE(hub_.Receive(&alice, "held", "").held);
  hub_.Leave(&c, "");
  hub_.Leave(&d, "");  // one of two backlogged: a slow reader, not congestion
  EXPECT_EQ(alice.resumes, 1);
  EXPECT_EQ(b.Texts(CHAT), (std::vector<std::string>{"tells the hub", "held"}));
}

// Presence in big rooms (issue 12), on a manual clock: the hub's presence
// alarm runs on the clock's thread, and Advance() returns once it has, so
// every check below is exact.
class PresenceHubTest : public ::testing::Test {
 protected:
  static constexpr std::size_t kAbove = 3;  // rooms of 4 and more are big
  static constexpr auto kInterval = std::chrono::milliseconds(1000);

  explicit PresenceHubTest(std::size_t above = kAbove, std::size_t history = 50)
      : hub_(Options(above, history, &clock_)) {}
  static HubOptions Options(std::size_t above, std::size_t history, const AlarmClock* clock) {
    HubOptions options{64, 0, [history](const std::string&) {
                         return std::make_unique<MemoryRoomLog>(history, 7);
                       }};
    options.presence = {above, kInterval, clock};
    return options;
  }

  void Join(FakeSubscriber& s, const std::string& name, const std::string& room = "big") {
    ASSERT_TRUE(hub_.Join(&s, {name, room, std::nullopt, std::nullopt}).ok()) << name;
  }
  // Joins n members named prefix0, prefix1, ... (subscribers made by the test).
  std::vector<std::string> JoinMany(std::vector<FakeSubscriber>& subscribers,
                                    const std::string& prefix) {
    std::vector<std::string> names;
    for (std::size_t i = 0; i < subscribers.size(); ++i) {
      names.push_back(prefix + std::to_string(i));
      Join(subscribers[i], names.back());
    }
    return names;
  }
  static std::vector<std::string> Joined(const ChatMessage& m) {
    return {m.joined().begin(), m.joined().end()};
  }
  static std::vector<std::string> Left(const ChatMessage& m) {
    return {m.left().begin(), m.left().end()};
  }
  // JOIN and LEAVE events about `name` that `s` got (live, not history).
  static int EventsAbout(const FakeSubscriber& s, const std::string& name) {
    int n = 0;
    for (const ChatMessage& m : s.received) {
      if ((m.kind() == JOIN || m.kind() == LEAVE) && m.subject() == name && !m.replay()) ++n;
    }
    return n;
  }

  testing::ManualClock clock_;  // first: outlives the hub and its alarm
  Hub hub_;
};

TEST_F(PresenceHubTest, BelowTheSizeEveryJoinAndLeaveIsItsOwnEventAtOnce) {
  FakeSubscriber a, b, c;
  Join(a, "ana");
  Join(b, "bo");
  Join(c, "cy");  // a room of 3: not above 3
  EXPECT_EQ(a.Texts(JOIN),
            (std::vector<std::string>{"ana joined #big", "bo joined #big", "cy joined #big"}));
  EXPECT_EQ(c.Last().seq(), 3u);
  hub_.Leave(&c, "");
  EXPECT_EQ(a.Last().message(), "cy left #big");
  EXPECT_EQ(clock_.armed_alarms(), 0u);
  clock_.Advance(10 * kInterval);
  EXPECT_TRUE(a.OfKind(PRESENCE).empty());
}

TEST_F(PresenceHubTest, JoinsAboveTheSizeWithinAnIntervalGiveEachMemberOneEvent) {
  std::vector<FakeSubscriber> first(3), later(9);
  JoinMany(first, "a");
  const std::vector<std::string> names = JoinMany(later, "j");
  // The room heard nothing yet; each joiner got its own JOIN at once, after
  // its history, outside the room's log.
  for (const FakeSubscriber& s : first) {
    for (const std::string& name : names) EXPECT_EQ(EventsAbout(s, name), 0) << name;
  }
  for (std::size_t i = 0; i < later.size(); ++i) {
    const ChatMessage& own = later[i].Last();
    EXPECT_EQ(own.kind(), JOIN);
    EXPECT_EQ(own.subject(), names[i]);
    EXPECT_EQ(own.message(), names[i] + " joined #big");
    EXPECT_EQ(own.room(), "big");
    EXPECT_EQ(own.seq(), 0u);
    EXPECT_EQ(own.epoch(), 7u);
    EXPECT_FALSE(own.replay());
    for (std::size_t j = 0; j < names.size(); ++j) {
      if (j != i) {
        EXPECT_EQ(EventsAbout(later[i], names[j]), 0);
      }
    }
  }
  ASSERT_EQ(clock_.armed_alarms(), 1u);

  clock_.Advance(kInterval - std::chrono::milliseconds(1));
  EXPECT_TRUE(first[0].OfKind(PRESENCE).empty());
  clock_.Advance(std::chrono::milliseconds(1));
  std::vector<FakeSubscriber*> everyone;
  for (auto& s : first) everyone.push_back(&s);
  for (auto& s : later) everyone.push_back(&s);
  for (const FakeSubscriber* s : everyone) {
    const auto presence = s->OfKind(PRESENCE);
    ASSERT_EQ(presence.size(), 1u);
    EXPECT_EQ(presence[0].message(), "9 joined #big: j0, j1, j2 and 6 others");
    EXPECT_EQ(Joined(presence[0]), names);
    EXPECT_TRUE(Left(presence[0]).empty());
    EXPECT_EQ(presence[0].user(), "*");
    EXPECT_EQ(presence[0].seq(), 4u) << "after the three JOINs, no gap";
    EXPECT_EQ(s->Last().kind(), PRESENCE);
  }
  EXPECT_EQ(clock_.armed_alarms(), 0u);
  clock_.Advance(10 * kInterval);
  EXPECT_EQ(first[0].OfKind(PRESENCE).size(), 1u);
}

TEST_F(PresenceHubTest, LeavesAboveTheSizeLikewise) {
  std::vector<FakeSubscriber> members(10);
  const std::vector<std::string> names = JoinMany(members, "m");
  clock_.Advance(kInterval);  // the joins of m3..m9
  for (int i = 5; i < 10; ++i) hub_.Leave(&members[i], i == 9 ? "connection lost" : "");
  // Each left a room of more than 3: held.
  for (int i = 0; i < 5; ++i) EXPECT_EQ(members[i].Last().kind(), PRESENCE);
  clock_.Advance(kInterval);
  for (int i = 0; i < 5; ++i) {
    const auto presence = members[i].OfKind(PRESENCE);
    ASSERT_EQ(presence.size(), 2u);
    EXPECT_EQ(presence[1].message(), "5 left #big: m5, m6, m7 and 2 others");
    EXPECT_EQ(Left(presence[1]), (std::vector<std::string>{"m5", "m6", "m7", "m8", "m9"}));
    EXPECT_TRUE(Joined(presence[1]).empty());
    EXPECT_TRUE(members[i].OfKind(LEAVE).empty());
  }
}

TEST_F(PresenceHubTest, OneEventForJoinsAndLeavesTogetherAndComingAndGoingIsNotNews) {
  std::vector<FakeSubscriber> members(5);
  JoinMany(members, "m");
  clock_.Advance(kInterval);  // m3, m4 announced
  FakeSubscriber ana, bo, flash;
  Join(ana, "ana");
  hub_.Leave(&members[4], "");
  Join(flash, "flash");  // comes and goes within the interval
  hub_.Leave(&flash, "");
  Join(bo, "bo");
  hub_.Receive(&members[3], "/join elsewhere", "");  // leaves #big for another room
  clock_.Advance(kInterval);
  const auto presence = members[0].OfKind(PRESENCE);
  ASSERT_EQ(presence.size(), 2u);
  EXPECT_EQ(presence[1].message(), "2 joined #big: ana and bo; 2 left: m4 and m3");
  EXPECT_EQ(Joined(presence[1]), (std::vector<std::string>{"ana", "bo"}));
  EXPECT_EQ(Left(presence[1]), (std::vector<std::string>{"m4", "m3"}));
  EXPECT_EQ(EventsAbout(members[0], "flash"), 0);
  const auto ana_got = ana.OfKind(PRESENCE);  // the first one as history, the second live
  ASSERT_EQ(ana_got.size(), 2u);
  EXPECT_TRUE(ana_got[0].replay());
  EXPECT_FALSE(ana_got[1].replay());
  EXPECT_EQ(ana_got[1].seq(), presence[1].seq());
}

TEST_F(PresenceHubTest, WhoIsExactWhilePresenceIsHeld) {
  std::vector<FakeSubscriber> members(5);
  JoinMany(members, "m");
  hub_.Leave(&members[4], "");
  hub_.Receive(&members[0], "/who", "");
  EXPECT_EQ(members[0].Last().message(), "4 in #big: m0, m1, m2, m3");
  EXPECT_TRUE(members[0].OfKind(PRESENCE).empty());
}

// Nobody's words reach the room before the news that they are in it: the
// room hears the held presence first. Others' lines do not hurry it.
TEST_F(PresenceHubTest, ALineFromSomeoneWhoseJoinIsHeldAnnouncesThePresenceFirst) {
  std::vector<FakeSubscriber> members(6);
  JoinMany(members, "m");  // m3, m4, m5 held
  hub_.Receive(&members[0], "old news", "");
  EXPECT_EQ(members[1].Last().message(), "old news");
  EXPECT_TRUE(members[1].OfKind(PRESENCE).empty());
  hub_.Receive(&members[4], "hi all", "");
  const auto& got = members[1].received;
  ASSERT_GE(got.size(), 2u);
  EXPECT_EQ(got[got.size() - 2].kind(), PRESENCE);
  EXPECT_EQ(Joined(got[got.size() - 2]), (std::vector<std::string>{"m3", "m4", "m5"}));
  EXPECT_EQ(got.back().message(), "hi all");
  EXPECT_EQ(got.back().seq(), got[got.size() - 2].seq() + 1);
  // Nothing left to announce when the interval ends.
  clock_.Advance(kInterval);
  EXPECT_EQ(members[1].OfKind(PRESENCE).size(), 1u);
  // The same for /me.
  FakeSubscriber late;
  Join(late, "late");
  hub_.Receive(&late, "/me waves", "");
  EXPECT_EQ(members[1].OfKind(PRESENCE).size(), 2u);
  EXPECT_EQ(members[1].Last().kind(), ACTION);
}

// A rename while presence is held: what is held first, so that the room's
// lists stay right (the rename is of a name the room knows).
TEST_F(PresenceHubTest, ARenameAnnouncesWhatIsHeldFirst) {
  std::vector<FakeSubscriber> members(5);
  JoinMany(members, "m");  // m3, m4 held
  hub_.Receive(&members[4], "/nick newname", "");
  const auto& got = members[0].received;
  ASSERT_GE(got.size(), 2u);
  EXPECT_EQ(got[got.size() - 2].kind(), PRESENCE);
  EXPECT_EQ(Joined(got[got.size() - 2]), (std::vector<std::string>{"m3", "m4"}));
  EXPECT_EQ(got.back().kind(), RENAME);
  EXPECT_EQ(got.back().message(), "m4 is now known as newname");
}

// When the room is small again, what is held goes out before the first
// LEAVE of its own: every member sees one order of comings and goings.
TEST_F(PresenceHubTest, WhenTheRoomIsSmallAgainTheHeldPresenceComesFirst) {
  std::vector<FakeSubscriber> members(5);
  JoinMany(members, "m");
  clock_.Advance(kInterval);
  hub_.Leave(&members[4], "");  // a room of 5: held
  hub_.Leave(&members[3], "");  // of 4: held
  hub_.Leave(&members[2], "");  // of 3: its own LEAVE, after the held ones
  const auto& got = members[0].received;
  ASSERT_GE(got.size(), 2u);
  EXPECT_EQ(got[got.size() - 2].kind(), PRESENCE);
  EXPECT_EQ(Left(got[got.size() - 2]), (std::vector<std::string>{"m4", "m3"}));
  EXPECT_EQ(got.back().kind(), LEAVE);
  EXPECT_EQ(got.back().message(), "m2 left #big");
  clock_.Advance(kInterval);
  EXPECT_EQ(members[0].OfKind(PRESENCE).size(), 2u);
}

// A later joiner's history holds the PRESENCE events; its own JOIN still
// comes last, after them.
TEST_F(PresenceHubTest, HistoryHoldsThePresenceEventsAndTheOwnJoinComesAfterIt) {
  std::vector<FakeSubscriber> members(6);
  JoinMany(members, "m");
  clock_.Advance(kInterval);
  FakeSubscriber late;
  Join(late, "late");
  std::vector<Kind> kinds;
  for (const ChatMessage& m : late.received) kinds.push_back(m.kind());
  EXPECT_EQ(kinds, (std::vector<Kind>{NOTICE, JOIN, JOIN, JOIN, PRESENCE, JOIN}));
  EXPECT_TRUE(late.received[4].replay());
  EXPECT_EQ(Joined(late.received[4]), (std::vector<std::string>{"m3", "m4", "m5"}));
  EXPECT_FALSE(late.Last().replay());
  EXPECT_EQ(late.Last().subject(), "late");
}

// A reader (Hub::Listen) counts for the room's size and is never announced;
// once it names itself in a big room, it is announced like any joiner: its
// own JOIN at once, the room in the interval's PRESENCE event.
TEST_F(PresenceHubTest, AReaderWhoNamesItselfInABigRoomIsAnnouncedInThePresenceEvent) {
  std::vector<FakeSubscriber> members(3);
  JoinMany(members, "m");  // a room of 3: announced at once
  FakeSubscriber reader;
  ASSERT_TRUE(hub_.Listen(&reader, {"", "big", std::nullopt, std::nullopt}).ok());
  clock_.Advance(kInterval);
  EXPECT_TRUE(members[0].OfKind(PRESENCE).empty()) << "a reader comes unannounced";
  hub_.Receive(&members[0], "/who", "");
  EXPECT_EQ(members[0].Last().message(), "4 in #big: m0, m1, m2, and 1 reader");
  ASSERT_TRUE(hub_.Join(&reader, {"named", "big", std::nullopt, std::nullopt}).ok());
  EXPECT_EQ(reader.Last().kind(), JOIN);
  EXPECT_EQ(reader.Last().subject(), "named");
  EXPECT_EQ(reader.Last().seq(), 0u);
  EXPECT_EQ(EventsAbout(members[0], "named"), 0);
  clock_.Advance(kInterval);
  for (const FakeSubscriber* s : {&members[0], &reader}) {
    const auto presence = s->OfKind(PRESENCE);
    ASSERT_EQ(presence.size(), 1u);
    EXPECT_EQ(Joined(presence[0]), (std::vector<std::string>{"named"}));
  }
}

TEST_F(PresenceHubTest, RoomsAreApart) {
  std::vector<FakeSubscriber> big(5), other(5);
  JoinMany(big, "b");
  for (std::size_t i = 0; i < other.size(); ++i) Join(other[i], "o" + std::to_string(i), "other");
  clock_.Advance(kInterval);
  EXPECT_EQ(Joined(big[0].OfKind(PRESENCE).at(0)), (std::vector<std::string>{"b3", "b4"}));
  EXPECT_EQ(Joined(other[0].OfKind(PRESENCE).at(0)), (std::vector<std::string>{"o3", "o4"}));
  EXPECT_EQ(big[0].OfKind(PRESENCE).size(), 1u);
}

TEST_F(PresenceHubTest, ShutdownDropsWhatIsHeldAndStopsTheAlarm) {
  std::vector<FakeSubscriber> members(5);
  JoinMany(members, "m");
  ASSERT_EQ(clock_.armed_alarms(), 1u);
  hub_.Shutdown();
  EXPECT_EQ(clock_.armed_alarms(), 0u);
  clock_.Advance(10 * kInterval);
  for (const FakeSubscriber& s : members) EXPECT_TRUE(s.OfKind(PRESENCE).empty());
}

TEST(PresenceHubOptionsTest, CoalescingWithoutAClockIsRefused) {
  HubOptions options{64, 0,
                     [](const std::string&) { return std::make_unique<MemoryRoomLog>(5, 7); }};
  options.presence.coalesce_above = 3;
  EXPECT_THROW(Hub{options}, std::invalid_argument);
}

// Counts what a member receives, by kind, without keeping it (a room of a
// thousand would otherwise hold a million messages).
class CountingSubscriber : public testing::PassiveSubscriber {
 public:
  Delivered Deliver(EnvelopePtr envelope) override {
    const ChatMessage& m = envelope->message;
    ++deliveries;
    if (m.replay()) {
      ++history;
    } else if (m.kind() == JOIN || m.kind() == LEAVE || m.kind() == PRESENCE) {
      ++presence;
    }
    return Delivery::kQueued;
  }
  std::uint64_t deliveries = 0;  // everything
  std::uint64_t history = 0;     // replayed on join
  std::uint64_t presence = 0;    // live JOIN, LEAVE and PRESENCE events
};

struct JoinCost {
  std::uint64_t deliveries = 0, history = 0, presence = 0;
};

// `joins` members join one room, `per_interval` of them between two
// presence intervals (all at once when it is `joins`), with the server's
// default history (200); the deliveries they cause, once the last interval
// has ended.
JoinCost CostOfJoins(std::size_t coalesce_above, std::size_t joins, std::size_t per_interval) {
  testing::ManualClock clock;
  HubOptions options{2048, 0,
                     [](const std::string&) { return std::make_unique<MemoryRoomLog>(200, 7); }};
  options.presence = {coalesce_above, std::chrono::milliseconds(1000), &clock};
  std::vector<CountingSubscriber> members(joins);
  {
    Hub hub(options);
    for (std::size_t i = 0; i < joins; ++i) {
      EXPECT_TRUE(hub.Join(&members[i], {"u" + std::to_string(i), "big", {}, {}}).ok());
      if ((i + 1) % per_interval == 0) clock.Advance(std::chrono::milliseconds(1000));
    }
    clock.Advance(std::chrono::milliseconds(1000));
  }
  JoinCost cost;
  for (const CountingSubscriber& m : members) {
    cost.deliveries += m.deliveries;
    cost.history += m.history;
    cost.presence += m.presence;
  }
  return cost;
}

// The numbers of docs/benchmarks.md ("Presence in big rooms"): each member
// that joins a room of k costs k deliveries of its JOIN without coalescing
// (n(n+1)/2 for n joins), and with it one own JOIN plus a share of one
// PRESENCE event per member per interval.
TEST(PresenceCostTest, TwoHundredJoinsCostExactlyThis) {
  constexpr std::uint64_t n = 200;
  const JoinCost before = CostOfJoins(0, n, n);
  EXPECT_EQ(before.presence, n * (n + 1) / 2);  // 20100
  EXPECT_EQ(before.history, n * (n - 1) / 2);   // the k-th joiner replays k-1 JOINs: 19900
  EXPECT_EQ(before.deliveries, n + before.history + before.presence);  // + welcomes

  // Above 50, all within one interval: the first 51 as before (the 51st
  // joins a room of 51 and is held), then each its own JOIN, and one
  // PRESENCE to each of the 200 at the end of the interval.
  const JoinCost after = CostOfJoins(50, n, n);
  EXPECT_EQ(after.presence, 50 * 51 / 2 + (n - 50) + n);  // 1275 + 150 + 200 = 1625
  // History then holds the 50 JOINs only.
  EXPECT_EQ(after.history, 50 * 51 / 2 + (n - 51) * 50);  // 1275 + 7450 = 8725
  EXPECT_EQ(after.deliveries, n + after.history + after.presence);
}

TEST(PresenceCostTest, AThousandJoins) {
  const JoinCost before = CostOfJoins(0, 1000, 1000);
  const JoinCost one_interval = CostOfJoins(50, 1000, 1000);
  const JoinCost ten_intervals = CostOfJoins(50, 1000, 100);
  EXPECT_EQ(before.presence, 500500u);
  EXPECT_EQ(one_interval.presence, 1275u + 950u + 1000u);
  // Ten PRESENCE events, to 100, 200, ... 1000 members.
  EXPECT_EQ(ten_intervals.presence, 1275u + 950u + 5500u);
  std::cout << "deliveries caused by 1000 joins into one room (history 200):\n"
            << "  coalescing off:          " << before.deliveries << " (presence "
            << before.presence << ", history " << before.history << ")\n"
            << "  above 50, one interval:  " << one_interval.deliveries << " (presence "
            << one_interval.presence << ", history " << one_interval.history << ")\n"
            << "  above 50, 100 per interval: " << ten_intervals.deliveries << " (presence "
            << ten_intervals.presence << ", history " << ten_intervals.history << ")\n";
}

}  // namespace
}  // namespace chat
