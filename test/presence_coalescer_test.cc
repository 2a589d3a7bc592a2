// The bookkeeping of presence in big rooms (issue 12), on its own: what is
// held, what cancels out, when each room is due, and the text every client
// shows. The hub's use of it is in hub_test.cc (PresenceHubTest).
#include "server/presence_coalescer.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

namespace chat {
namespace {

using namespace std::chrono_literals;
using Names = std::vector<std::string>;

// Any time: the coalescer only compares and adds.
const Clock::time_point kT0 = Clock::time_point(1000h);

PresenceChange Change(Names joined, Names left = {}) {
  return {"big", std::move(joined), std::move(left)};
}

TEST(PresenceText, NamesThreeAndCountsTheOthers) {
  EXPECT_EQ(PresenceText(Change({"ana"})), "1 joined #big: ana");
  EXPECT_EQ(PresenceText(Change({"ana", "bo"})), "2 joined #big: ana and bo");
  EXPECT_EQ(PresenceText(Change({"ana", "bo", "cy"})), "3 joined #big: ana, bo and cy");
  EXPECT_EQ(PresenceText(Change({"ana", "bo", "cy", "dd"})),
            "4 joined #big: ana, bo, cy and 1 other");
  Names twelve = {"ana", "bo", "cy"};
  for (int i = 0; i < 9; ++i) twelve.push_back("x" + std::to_string(i));
  EXPECT_EQ(PresenceText(Change(twelve)), "12 joined #big: ana, bo, cy and 9 others");
}

TEST(PresenceText, LeavesAloneAndBothInOneEvent) {
  EXPECT_EQ(PresenceText(Change({}, {"dd", "ee"})), "2 left #big: dd and ee");
  EXPECT_EQ(PresenceText(Change({"ana", "bo", "cy"}, {"dd"})),
            "3 joined #big: ana, bo and cy; 1 left: dd");
}

TEST(PresenceMessage, IsFromTheServerWithEveryName) {
  const ChatMessage m = PresenceMessage(Change({"ana", "bo", "cy", "dd"}, {"ee"}));
  EXPECT_EQ(m.kind(), PRESENCE);
  EXPECT_EQ(m.user(), "*");
  EXPECT_EQ(m.room(), "big");
  EXPECT_EQ(m.subject(), "");
  EXPECT_EQ(m.message(), "4 joined #big: ana, bo, cy and 1 other; 1 left: ee");
  EXPECT_EQ(Names(m.joined().begin(), m.joined().end()), (Names{"ana", "bo", "cy", "dd"}));
  EXPECT_EQ(Names(m.left().begin(), m.left().end()), (Names{"ee"}));
}

TEST(PresenceCoalescer, CoalescesOnlyAboveTheSizeAndNeverWhenZero) {
  const PresenceCoalescer above50(50, 1s);
  EXPECT_FALSE(above50.Coalesces(1));
  EXPECT_FALSE(above50.Coalesces(50));
  EXPECT_TRUE(above50.Coalesces(51));
  const PresenceCoalescer off(0, 1s);
  EXPECT_FALSE(off.Coalesces(1));
  EXPECT_FALSE(off.Coalesces(1000000));
}

TEST(PresenceCoalescer, TheFirstChangeOfARoomSaysWhenItIsDue) {
  PresenceCoalescer c(1, 1s);
  EXPECT_FALSE(c.NextDue());
  EXPECT_EQ(c.Joined("big", "ana", kT0), kT0 + 1s);
  EXPECT_EQ(c.Joined("big", "bo", kT0 + 300ms), std::nullopt) << "due already";
  EXPECT_EQ(c.Left("other", "cy", kT0 + 500ms), kT0 + 1500ms);
  EXPECT_EQ(c.NextDue(), kT0 + 1s);
  EXPECT_TRUE(c.TakeDue(kT0 + 999ms).empty());
  const auto due = c.TakeDue(kT0 + 1s);
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(due[0].room, "big");
  EXPECT_EQ(due[0].joined, (Names{"ana", "bo"}));
  EXPECT_EQ(c.NextDue(), kT0 + 1500ms);
  // A new interval starts with the next change.
  EXPECT_EQ(c.Joined("big", "dd", kT0 + 1200ms), kT0 + 2200ms);
}

TEST(PresenceCoalescer, TakesDueRoomsEarliestFirst) {
  PresenceCoalescer c(1, 1s);
  c.Joined("zeta", "ana", kT0);
  c.Joined("alpha", "bo", kT0 + 10ms);
  const auto due = c.TakeDue(kT0 + 2s);
  ASSERT_EQ(due.size(), 2u);
  EXPECT_EQ(due[0].room, "zeta");
  EXPECT_EQ(due[1].room, "alpha");
  EXPECT_FALSE(c.NextDue());
}

TEST(PresenceCoalescer, ComingAndGoingWithinAnIntervalCancelsOut) {
  PresenceCoalescer c(1, 1s);
  c.Joined("big", "ana", kT0);  // came and went: the room never hears of her
  c.Left("big", "ana", kT0);
  c.Left("big", "bo", kT0);  // went and came back: nothing changed for the room
  c.Joined("big", "bo", kT0);
  c.Joined("big", "cy", kT0);  // came, went, came
  c.Left("big", "cy", kT0);
  c.Joined("big", "cy", kT0);
  c.Left("big", "dd", kT0);  // went, came, went
  c.Joined("big", "dd", kT0);
  c.Left("big", "dd", kT0);
  const auto change = c.Take("big");
  ASSERT_TRUE(change);
  EXPECT_EQ(change->joined, (Names{"cy"}));
  EXPECT_EQ(change->left, (Names{"dd"}));
  EXPECT_FALSE(c.Holds("big"));

  c.Joined("big", "ee", kT0);
  c.Left("big", "ee", kT0);
  EXPECT_TRUE(c.Holds("big"));
  EXPECT_FALSE(c.Take("big")) << "all of it cancelled out";
  EXPECT_FALSE(c.Holds("big"));
}

TEST(PresenceCoalescer, NamesAreOneIgnoringCaseAndShownAsLastSpelt) {
  PresenceCoalescer c(1, 1s);
  c.Left("big", "Ana", kT0);    // Ana leaves; someone takes the name as "ANA"
  c.Joined("big", "ANA", kT0);  // for the room: nothing changed (one name)
  c.Joined("big", "bo", kT0);
  c.Left("big", "BO", kT0);
  c.Joined("big", "Bo", kT0);
  const auto change = c.Take("big");
  ASSERT_TRUE(change);
  EXPECT_EQ(change->joined, (Names{"Bo"}));
  EXPECT_TRUE(change->left.empty());
}

TEST(PresenceCoalescer, KnowsWhoseJoinIsHeld) {
  PresenceCoalescer c(1, 1s);
  c.Joined("big", "ana", kT0);
  c.Left("big", "bo", kT0);
  c.Joined("big", "bo", kT0);  // back: the room thinks bo never left
  EXPECT_TRUE(c.HoldsJoinOf("big", "ana"));
  EXPECT_TRUE(c.HoldsJoinOf("big", "ANA"));
  EXPECT_FALSE(c.HoldsJoinOf("big", "bo"));
  EXPECT_FALSE(c.HoldsJoinOf("big", "cy"));
  EXPECT_FALSE(c.HoldsJoinOf("other", "ana"));
  c.Left("big", "ana", kT0);
  EXPECT_FALSE(c.HoldsJoinOf("big", "ana"));
}

TEST(PresenceCoalescer, RoomsAreApartAndClearDropsEverything) {
  PresenceCoalescer c(1, 1s);
  c.Joined("a", "ana", kT0);
  c.Joined("b", "bo", kT0);
  const auto a = c.Take("a");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->joined, (Names{"ana"}));
  EXPECT_TRUE(c.Holds("b"));
  c.Clear();
  EXPECT_FALSE(c.Holds("b"));
  EXPECT_FALSE(c.NextDue());
}

}  // namespace
}  // namespace chat
