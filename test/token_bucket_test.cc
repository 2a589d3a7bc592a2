#include "common/token_bucket.h"

#include <gtest/gtest.h>

namespace chat {
namespace {

using TimePoint = TokenBucket::TimePoint;
using std::chrono::milliseconds;

TEST(TokenBucket, NextTokenAtSaysWhenTheNextLineMayGo) {
  const auto start = TimePoint{};
  TokenBucket bucket(10, 2, start);
  EXPECT_EQ(bucket.NextTokenAt(start), start);  // tokens to spare
  ASSERT_TRUE(bucket.TryTake(start));
  ASSERT_TRUE(bucket.TryTake(start));
  const auto next = bucket.NextTokenAt(start);
  EXPECT_EQ(std::chrono::duration_cast<milliseconds>(next - start), milliseconds(100));
  EXPECT_FALSE(bucket.TryTake(next - milliseconds(1)));
  EXPECT_TRUE(bucket.TryTake(next));
}

TEST(TokenBucket, PacingToNextTokenAtNeverExceedsTheRate) {
  // A sender that waits for NextTokenAt before each line sends 40 lines at
  // once, then one line per 50 ms: over any second after the burst, 20.
  auto now = TimePoint{};
  TokenBucket bucket(20, 40, now);
  int sent = 0;
  while (sent < 100) {
    now = bucket.NextTokenAt(now);
    ASSERT_TRUE(bucket.TryTake(now));
    ++sent;
  }
  EXPECT_EQ(std::chrono::duration_cast<milliseconds>(now - TimePoint{}).count(), 3000);
}

// Found by fuzzing: at 1e-300 lines per second the wait (1e300 s) was
// converted to int64 nanoseconds, which is undefined (UBSan: float-cast-overflow).
TEST(TokenBucket, NextTokenAtATinyRateIsCappedNotOverflowed) {
  const auto start = TimePoint{};
  TokenBucket bucket(1e-300, 1, start);
  ASSERT_TRUE(bucket.TryTake(start));
  const auto next = bucket.NextTokenAt(start);
  EXPECT_GT(next, start);
  EXPECT_LE(std::chrono::duration<double>(next - start).count(), TokenBucket::kMaxWaitSeconds + 1);
  EXPECT_FALSE(bucket.TryTake(start + std::chrono::hours(24 * 365)));
}

TEST(TokenBucket, ZeroRateMeansNoLimit) {
  const auto start = TimePoint{};
  TokenBucket bucket(0, 0, start);
  for (int i = 0; i < 1000; ++i) ASSERT_TRUE(bucket.TryTake(start));
  EXPECT_EQ(bucket.NextTokenAt(start), start);
}

TEST(TokenBucket, StartsFullAndAQuietSpellSavesUpAtMostTheBurst) {
  const auto start = TimePoint{} + std::chrono::hours(1);
  TokenBucket bucket(5, 10, start);
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(bucket.TryTake(start)) << "line " << i;
  EXPECT_FALSE(bucket.TryTake(start)) << "more than the burst at one instant";
  const auto later = start + std::chrono::hours(1);  // enough for 18000 lines at the rate
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(bucket.TryTake(later)) << "line " << i;
  EXPECT_FALSE(bucket.TryTake(later)) << "a quiet spell saved up more than the burst";
}

TEST(TokenBucket, RefillsOneLinePerOneOverTheRate) {
  const auto start = TimePoint{} + std::chrono::hours(1);
  TokenBucket bucket(5, 10, start);
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(bucket.TryTake(start));
  EXPECT_FALSE(bucket.TryTake(start + milliseconds(199)));
  EXPECT_TRUE(bucket.TryTake(start + milliseconds(200))) << "1/rate later: one more line";
  EXPECT_FALSE(bucket.TryTake(start + milliseconds(200))) << "only one";
  EXPECT_FALSE(bucket.TryTake(start + milliseconds(399)));
  EXPECT_TRUE(bucket.TryTake(start + milliseconds(400)));
  // Refused lines cost nothing: the next token still comes at its time.
  EXPECT_TRUE(bucket.TryTake(start + milliseconds(600)));
}

TEST(FloodBurst, TwiceTheRateAndAtLeastTenLines) {
  EXPECT_EQ(FloodBurst(20), 40);
  EXPECT_EQ(FloodBurst(8), 16);
  EXPECT_EQ(FloodBurst(5), 10);
  EXPECT_EQ(FloodBurst(2), 10) << "at least 10, not twice the rate";
  EXPECT_EQ(FloodBurst(0.5), 10);
}

}  // namespace
}  // namespace chat
