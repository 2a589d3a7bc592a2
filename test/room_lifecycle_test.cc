#include "server/room_lifecycle.h"

#include <gtest/gtest.h>

#include <chrono>
#include <vector>

#include "common/log_throttle.h"

namespace chat {
namespace {

using namespace std::chrono_literals;

const Clock::time_point kStart = Clock::time_point{} + 1000h;

std::vector<std::string> Occupied(const RoomLifecycle& rooms) {
  return {rooms.occupied().begin(), rooms.occupied().end()};
}

TEST(RoomLifecycle, ListsOccupiedRoomsByNameAndReclaimsEmptyOnesOldestFirstOnceIdle) {
  RoomLifecycle rooms(60s, "lobby");
  for (const char* room : {"lobby", "red", "blue", "green"}) rooms.Occupied(room);
  EXPECT_EQ(Occupied(rooms), (std::vector<std::string>{"blue", "green", "lobby", "red"}));
  rooms.Emptied("red", kStart);
  rooms.Emptied("blue", kStart + 10s);
  rooms.Emptied("lobby", kStart + 10s);  // permanent: off the list of occupied, never reclaimed
  EXPECT_EQ(Occupied(rooms), (std::vector<std::string>{"green"}));
  EXPECT_EQ(rooms.empty_count(), 2u);

  EXPECT_EQ(rooms.TakeIdle(kStart + 59s), std::nullopt);
  EXPECT_EQ(rooms.TakeIdle(kStart + 60s), "red");
  EXPECT_EQ(rooms.TakeIdle(kStart + 60s), std::nullopt);  // blue: idle since only 50 s
  EXPECT_EQ(rooms.TakeIdle(kStart + 70s), "blue");
  EXPECT_EQ(rooms.TakeIdle(kStart + 1000h), std::nullopt);
  EXPECT_EQ(rooms.empty_count(), 0u);
}

TEST(RoomLifecycle, ARoomOccupiedAgainIsNoLongerReclaimedAndCountsItsIdleTimeAfresh) {
  RoomLifecycle rooms(60s, "lobby");
  rooms.Occupied("red");
  rooms.Emptied("red", kStart);
  rooms.Occupied("red");
  EXPECT_EQ(rooms.empty_count(), 0u);
  EXPECT_EQ(rooms.TakeIdle(kStart + 1h), std::nullopt);
  rooms.Emptied("red", kStart + 1h);
  EXPECT_EQ(rooms.TakeIdle(kStart + 1h + 59s), std::nullopt);
  EXPECT_EQ(rooms.TakeIdle(kStart + 1h + 60s), "red");
}

TEST(RoomLifecycle, TheOldestEmptyRoomCanBeTakenEarlyAndANeverIdleLifecycleNeverReclaims) {
  RoomLifecycle never(Clock::duration::max(), "lobby");
  never.Occupied("a");
  never.Occupied("b");
  never.Emptied("b", kStart);
  never.Emptied("a", kStart + 1s);
  EXPECT_EQ(never.TakeIdle(kStart + 100000h), std::nullopt);
  EXPECT_EQ(never.TakeOldestEmpty(), "b");
  EXPECT_EQ(never.TakeOldestEmpty(), "a");
  EXPECT_EQ(never.TakeOldestEmpty(), std::nullopt);
}

TEST(LogThrottle, LetsOneLineThroughPerIntervalAndCountsTheRest) {
  LogThrottle throttle(10s);
  std::uint64_t held_back = 99;
  EXPECT_TRUE(throttle.Allow(kStart, &held_back));
  EXPECT_EQ(held_back, 0u);
  for (int i = 0; i < 5; ++i) EXPECT_FALSE(throttle.Allow(kStart + 9s, &held_back));
  EXPECT_TRUE(throttle.Allow(kStart + 10s, &held_back));
  EXPECT_EQ(held_back, 5u);
  EXPECT_FALSE(throttle.Allow(kStart + 19s, &held_back));
  EXPECT_TRUE(throttle.Allow(kStart + 25s, &held_back));
  EXPECT_EQ(held_back, 1u);
}

}  // namespace
}  // namespace chat
