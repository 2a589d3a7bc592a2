// The rooms' lifecycle in the hub (issue 12, "Rooms end"): an empty room
// keeps its history for the idle time and is then reclaimed, the lobby never
// is, --max-rooms and the per-member creation limit refuse with ERRORs a
// person can act on, and /rooms lists only rooms with members, a page at a
// time. Time is a ManualClock: exact, no waiting.
#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/terminal_text.h"
#include "server/hub.h"
#include "server/memory_room_log.h"
#include "test/support/manual_clock.h"
#include "test/support/passive_subscriber.h"

namespace chat {
namespace {

using namespace std::chrono_literals;

// Records what the hub delivers; never refuses.
class Recorder : public testing::PassiveSubscriber {
 public:
  Delivered Deliver(EnvelopePtr envelope) override {
    received.push_back(envelope->message);
    return Delivery::kQueued;
  }

  const ChatMessage& Last() const { return received.back(); }
  std::vector<std::string> Replayed() const {
    std::vector<std::string> out;
    for (const ChatMessage& m : received) {
      if (m.replay()) out.push_back(m.message());
    }
    return out;
  }
  std::vector<ChatMessage> OfKind(Kind kind) const {
    std::vector<ChatMessage> out;
    for (const ChatMessage& m : received) {
      if (m.kind() == kind) out.push_back(m);
    }
    return out;
  }

  std::vector<ChatMessage> received;
};

class HubRoomsTest : public ::testing::Test {
 protected:
  static constexpr auto kIdle = 60s;

  void Start(std::size_t max_rooms = 0, std::size_t new_rooms_per_minute = 0,
             Clock::duration idle = kIdle) {
    HubOptions options;
    options.max_message_bytes = 256;
    // Every log a new epoch: a room made again is a new life.
    options.make_room_log = [this](const std::string&) {
      return std::make_unique<MemoryRoomLog>(10, ++epochs_);
    };
    options.clock = &clock_;
    options.max_rooms = max_rooms;
    options.new_rooms_per_minute = new_rooms_per_minute;
    options.room_idle = idle;
    hub_ = std::make_unique<Hub>(std::move(options));
  }

  Recorder& Join(const std::string& name, const std::string& room = "") {
    subscribers_.push_back(std::make_unique<Recorder>());
    EXPECT_TRUE(
        hub_->Join(subscribers_.back().get(), {name, room, std::nullopt, std::nullopt}).ok())
        << name;
    return *subscribers_.back();
  }
  void Say(Recorder& who, const std::string& line, const std::string& id = "") {
    hub_->Receive(&who, line, id);
  }

  testing::ManualClock clock_;
  std::uint64_t epochs_ = 0;
  std::vector<std::unique_ptr<Recorder>> subscribers_;
  std::unique_ptr<Hub> hub_;  // last: goes before what it points at
};

TEST_F(HubRoomsTest, AnEmptyRoomKeepsItsHistoryForTheIdleTimeThenIsReclaimed) {
  Start();
  Recorder& alice = Join("alice");
  Recorder& bob = Join("bob");
  Say(alice, "/join dev");
  Say(alice, "kept");
  Say(alice, "/leave");
  EXPECT_EQ(hub_->room_count(), 2u);  // lobby, and dev though empty

  clock_.Advance(kIdle - 1s);
  Say(bob, "/who");  // any activity sweeps: dev is not due yet
  EXPECT_EQ(hub_->room_count(), 2u);
  bob.received.clear();
  Say(bob, "/join dev");  // in time: the history is still there
  EXPECT_EQ(bob.Replayed(),
            (std::vector<std::string>{"alice joined #dev", "kept", "alice left #dev"}));
  Say(bob, "/leave");

  clock_.Advance(kIdle - 1s);  // idle counts from the last leave
  Say(alice, "/who");
  EXPECT_EQ(hub_->room_count(), 2u);
  clock_.Advance(1s);
  Say(alice, "/who");
  EXPECT_EQ(hub_->room_count(), 1u) << "dev was empty for the idle time";

  // Made again, it is a new room: no history, another epoch.
  const std::size_t before = bob.received.size();
  Say(bob, "/join dev");
  for (std::size_t i = before; i < bob.received.size(); ++i) {
    EXPECT_FALSE(bob.received[i].replay()) << bob.received[i].ShortDebugString();
  }
  EXPECT_EQ(bob.Last().message(), "bob joined #dev");
  EXPECT_EQ(bob.Last().seq(), 1u);
}

TEST_F(HubRoomsTest, AResumeIntoAReclaimedRoomSaysItsHistoryWasDiscarded) {
  Start();
  Recorder& alice = Join("alice", "dev");
  Say(alice, "before");
  const ChatMessage seen = alice.Last();
  hub_->Leave(&alice, "connection lost");
  clock_.Advance(kIdle);
  hub_->ReclaimIdleRooms();  // what the server's sweeper does on a quiet server
  EXPECT_EQ(hub_->room_count(), 0u);

  Recorder again;
  ASSERT_TRUE(hub_->Join(&again, {"alice", "dev", seen.seq(), seen.epoch()}).ok());
  const auto gaps = again.OfKind(GAP);
  ASSERT_EQ(gaps.size(), 1u);
  EXPECT_EQ(gaps[0].seq(), 0u);
  EXPECT_NE(gaps[0].epoch(), seen.epoch());
  EXPECT_EQ(gaps[0].message(),
            "the history of #dev was discarded (the room was empty for a while, or the server "
            "restarted); showing the new history from the start");
  hub_->Leave(&again, "");
}

TEST_F(HubRoomsTest, AnIdleTimeOfZeroReclaimsARoomAsItsLastMemberLeaves) {
  Start(0, 0, Clock::duration::zero());
  Recorder& alice = Join("alice", "dev");
  EXPECT_EQ(hub_->room_count(), 1u);
  Say(alice, "/join ops");  // dev goes as alice leaves it
  EXPECT_EQ(hub_->room_count(), 1u);
  hub_->Leave(&alice, "");
  EXPECT_EQ(hub_->room_count(), 0u);
}

TEST_F(HubRoomsTest, TheLobbyIsNeverReclaimedAndKeepsItsHistory) {
  Start(0, 0, Clock::duration::zero());
  Recorder& alice = Join("alice");
  Say(alice, "lobby talk");
  hub_->Leave(&alice, "");
  clock_.Advance(1000h);
  hub_->ReclaimIdleRooms();
  EXPECT_EQ(hub_->room_count(), 1u);
  Recorder& bob = Join("bob");
  EXPECT_EQ(bob.Replayed(),
            (std::vector<std::string>{"alice joined #lobby", "lobby talk", "alice left #lobby"}));
}

TEST_F(HubRoomsTest, AtMaxRoomsANewRoomIsRefusedWithAnErrorCarryingTheLinesId) {
  Start(/*max_rooms=*/2);
  Recorder& a = Join("a", "one");
  Recorder& b = Join("b", "two");
  Recorder& c = Join("c");  // the lobby does not count
  EXPECT_EQ(hub_->room_count(), 3u);
  Say(c, "/join three", "j1");
  EXPECT_EQ(c.Last().kind(), ERROR);
  EXPECT_EQ(c.Last().client_msg_id(), "j1");
  EXPECT_EQ(c.Last().message(),
            "cannot join #three: the server has 2 rooms, its limit; join a room that exists "
            "(/rooms lists them) or the lobby");
  Say(c, "/who");
  EXPECT_EQ(c.Last().message(), "1 in #lobby: c") << "c stayed where it was";
  EXPECT_EQ(hub_->room_count(), 3u);

  // A room that exists can be joined at the limit.
  Say(c, "/join two");
  EXPECT_EQ(c.Last().message(), "c joined #two");

  // An empty room, even one not idle yet, makes way for a new one.
  Say(a, "/leave");
  Say(b, "/join three", "j2");
  EXPECT_EQ(b.Last().message(), "b joined #three");
  EXPECT_EQ(hub_->room_count(), 3u);  // lobby, two, three: one was reclaimed early
  Say(a, "/rooms");
  EXPECT_EQ(a.Last().message(), "rooms: #lobby (1), #three (1), #two (1)");
}

TEST_F(HubRoomsTest, AtMaxRoomsAJoinIntoANewRoomIsRefusedWithResourceExhausted) {
  Start(/*max_rooms=*/1);
  Join("a", "one");
  Recorder late;
  const grpc::Status status = hub_->Join(&late, {"late", "two", std::nullopt, std::nullopt});
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_EQ(status.error_message(),
            "cannot join #two: the server has 1 rooms, its limit; join a room that exists "
            "(/rooms lists them) or the lobby");
  EXPECT_TRUE(late.received.empty());
  EXPECT_EQ(hub_->member_count(), 1u);
  // Nothing changed: the name is still free, the lobby and #one still open.
  ASSERT_TRUE(hub_->Join(&late, {"late", "", std::nullopt, std::nullopt}).ok());
  Recorder other;
  ASSERT_TRUE(hub_->Join(&other, {"other", "one", std::nullopt, std::nullopt}).ok());
  hub_->Leave(&late, "");
  hub_->Leave(&other, "");
}

TEST_F(HubRoomsTest, OneMemberMayCreateOnlySoManyRoomsAMinuteButJoinExistingOnesFreely) {
  Start(0, /*new_rooms_per_minute=*/3);
  Recorder& alice = Join("alice");
  Recorder& bob = Join("bob", "bobs");
  for (const char* room : {"r1", "r2", "r3"}) {
    Say(alice, std::string("/join ") + room);
    EXPECT_EQ(alice.Last().message(), std::string("alice joined #") + room);
  }
  Say(alice, "/join r4", "too-many");
  EXPECT_EQ(alice.Last().kind(), ERROR);
  EXPECT_EQ(alice.Last().client_msg_id(), "too-many");
  EXPECT_EQ(alice.Last().message(),
            "cannot create #r4: you may create 3 rooms a minute; try again in 20 seconds, or "
            "join a room that exists");
  Say(alice, "/join bobs");  // exists: free
  EXPECT_EQ(alice.Last().message(), "alice joined #bobs");
  Say(alice, "/join r1");  // still exists (empty, not idle yet): free
  EXPECT_EQ(alice.Last().message(), "alice joined #r1");
  Say(bob, "/join b2");  // another member's allowance is its own
  EXPECT_EQ(bob.Last().message(), "bob joined #b2");

  clock_.Advance(19s);
  Say(alice, "/join r4");
  EXPECT_EQ(alice.Last().message(),
            "cannot create #r4: you may create 3 rooms a minute; try again in 1 second, or join a "
            "room that exists");
  clock_.Advance(1s);
  Say(alice, "/join r4");
  EXPECT_EQ(alice.Last().message(), "alice joined #r4");
}

// Found by fuzzing: /rooms quoted an invalid FROM back whole.
TEST_F(HubRoomsTest, RoomsQuotesAnInvalidFromCutToAShortPrefix) {
  Start();
  Recorder& a = Join("a");
  Say(a, "/rooms " + std::string(200, 'x'));
  EXPECT_EQ(a.Last().kind(), ERROR);
  EXPECT_EQ(a.Last().message(),
            "usage: /rooms [FROM] ('" + std::string(kMaxQuotedChars, 'x') +
                "… (200 bytes)' is not a room name: room name is 200 characters long; at most "
                "32 are allowed)");
}

TEST_F(HubRoomsTest, RoomsListsOnlyRoomsWithMembersFiftyAtATimeByName) {
  Start();
  Recorder& asker = Join("asker");
  for (int i = 0; i < 60; ++i) {
    char room[8];
    std::snprintf(room, sizeof room, "r%02d", i);
    Join("m" + std::to_string(i), room);
  }
  Recorder& gone = Join("gone", "empty");
  hub_->Leave(&gone, "");  // #empty exists (not idle yet) but has nobody
  EXPECT_EQ(hub_->room_count(), 62u);

  Say(asker, "/rooms");
  std::string first = "rooms: #lobby (1)";
  for (int i = 0; i < 49; ++i) {
    char room[8];
    std::snprintf(room, sizeof room, "r%02d", i);
    first += std::string(", #") + room + " (1)";
  }
  first += " (50 of 61 rooms with members; /rooms r49 lists the next ones)";
  EXPECT_EQ(asker.Last().message(), first);
  EXPECT_EQ(asker.Last().kind(), NOTICE);

  Say(asker, "/rooms r49");
  std::string rest = "rooms: ";
  for (int i = 49; i < 60; ++i) rest += (i == 49 ? "#r" : ", #r") + std::to_string(i) + " (1)";
  rest += " (11 of 61 rooms with members)";
  EXPECT_EQ(asker.Last().message(), rest);

  Say(asker, "/rooms #R5");  // as a room is written: '#' and case do not matter
  EXPECT_TRUE(asker.Last().message().starts_with("rooms: #r50 (1), #r51 (1)"))
      << asker.Last().message();
  Say(asker, "/rooms s");
  EXPECT_EQ(asker.Last().message(),
            "rooms: none from #s on (61 rooms with members; /rooms lists them from the start)");
  Say(asker, "/rooms no!", "bad");
  EXPECT_EQ(asker.Last().kind(), ERROR);
  EXPECT_EQ(asker.Last().client_msg_id(), "bad");
  EXPECT_TRUE(asker.Last().message().starts_with("usage: /rooms [FROM]")) << asker.Last().message();
}

}  // namespace
}  // namespace chat
