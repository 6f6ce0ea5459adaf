#include "memory/memory_strength.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace kasten::memory {
namespace {

constexpr TimeMs kDay = 86'400'000;
constexpr TimeMs kNow = 1'700'000'000'000;

TEST(MemoryStrengthTest, RetentionIsOneAtAccessAndDecays) {
    EXPECT_DOUBLE_EQ(retention(1.0, kNow, kNow), 1.0);
    // A last access in the future (clock skew) counts as now.
    EXPECT_DOUBLE_EQ(retention(1.0, kNow + kDay, kNow), 1.0);
    double previous = 1.0;
    for (int days = 1; days <= 365; days *= 2) {
        const double r = retention(1.0, kNow - days * kDay, kNow);
        EXPECT_LT(r, previous) << days;
        EXPECT_GT(r, 0.0);
        previous = r;
    }
    // Documented constant: 1/e after kTimeScaleDays at S = 1.
    EXPECT_NEAR(retention(1.0, kNow - static_cast<TimeMs>(kTimeScaleDays) * kDay, kNow), std::exp(-1.0), 1e-12);
}

TEST(MemoryStrengthTest, StrongerMemoriesDecaySlower) {
    const TimeMs last = kNow - 60 * kDay;
    EXPECT_GT(retention(5.0, last, kNow), retention(1.0, last, kNow));
    EXPECT_NEAR(retention(2.0, kNow - 60 * kDay, kNow), retention(1.0, kNow - 30 * kDay, kNow), 1e-12);
}

TEST(MemoryStrengthTest, RefreshIncreasesStrengthUpToTheCap) {
    EXPECT_DOUBLE_EQ(refreshed_strength(kInitialStrength), kInitialStrength + kStrengthIncrement);
    double s = kInitialStrength;
    for (int i = 0; i < 100; ++i) {
        const double next = refreshed_strength(s);
        EXPECT_GE(next, s);
        s = next;
    }
    EXPECT_DOUBLE_EQ(s, kMaxStrength);
    // Corrupt inputs are clamped, never propagated.
    EXPECT_DOUBLE_EQ(refreshed_strength(std::numeric_limits<double>::quiet_NaN()),
                     kInitialStrength + kStrengthIncrement);
    EXPECT_DOUBLE_EQ(refreshed_strength(-3.0), kInitialStrength + kStrengthIncrement);
}

TEST(MemoryStrengthTest, RankingFactorStaysWithinFloorAndOne) {
    EXPECT_DOUBLE_EQ(ranking_factor(1.0, kNow, kNow), 1.0);
    const double month = ranking_factor(1.0, kNow - 30 * kDay, kNow);
    EXPECT_GT(month, kRankFloor);
    EXPECT_LT(month, 1.0);
    EXPECT_NEAR(month, kRankFloor + (1 - kRankFloor) * std::exp(-1.0), 1e-12);
    const double ancient = ranking_factor(1.0, 0, kNow);
    EXPECT_GE(ancient, kRankFloor);
    EXPECT_LT(ancient, kRankFloor + 1e-6);
    EXPECT_DOUBLE_EQ(rank_weight(2.0), 1.0);
    EXPECT_DOUBLE_EQ(rank_weight(-1.0), kRankFloor);
    EXPECT_DOUBLE_EQ(rank_weight(std::numeric_limits<double>::quiet_NaN()), kRankFloor);
    // Extreme times do not overflow.
    const double extreme = ranking_factor(1.0, std::numeric_limits<TimeMs>::min(), std::numeric_limits<TimeMs>::max());
    EXPECT_GE(extreme, kRankFloor);
    EXPECT_LE(extreme, 1.0);
}

TEST(MemoryStrengthTest, AccessReordersOldAgainstNew) {
    // A note accessed often long ago can outrank a note seen once more recently.
    double s = kInitialStrength;
    for (int i = 0; i < 9; ++i) s = refreshed_strength(s);
    EXPECT_GT(ranking_factor(s, kNow - 40 * kDay, kNow), ranking_factor(1.0, kNow - 20 * kDay, kNow));
}

}  // namespace
}  // namespace kasten::memory
