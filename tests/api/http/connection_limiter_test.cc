#include "api/http/connection_limiter.h"

#include <utility>
#include <vector>

#include <gtest/gtest.h>

namespace kasten::api {
namespace {

using Refusal = ConnectionLimiter::Refusal;

TEST(ConnectionLimiterTest, OneAddressIsCappedWhileOthersAreAdmitted) {
    ConnectionLimiter limiter({/*max_total=*/10, /*max_per_client=*/2});
    ConnectionLimiter::Slot a1 = limiter.admit("10.0.0.1");
    ConnectionLimiter::Slot a2 = limiter.admit("10.0.0.1");
    ASSERT_TRUE(a1.admitted());
    ASSERT_TRUE(a2.admitted());
    ConnectionLimiter::Slot a3 = limiter.admit("10.0.0.1");
    EXPECT_FALSE(a3.admitted());
    EXPECT_EQ(a3.refusal(), Refusal::kPerClient);
    ConnectionLimiter::Slot b1 = limiter.admit("10.0.0.2");
    EXPECT_TRUE(b1.admitted());
    EXPECT_EQ(limiter.active(), 3);
    EXPECT_EQ(limiter.active("10.0.0.1"), 2);
    EXPECT_EQ(limiter.active("10.0.0.2"), 1);
}

TEST(ConnectionLimiterTest, TheTotalCapHoldsAcrossAddresses) {
    ConnectionLimiter limiter({/*max_total=*/3, /*max_per_client=*/2});
    std::vector<ConnectionLimiter::Slot> held;
    held.push_back(limiter.admit("a"));
    held.push_back(limiter.admit("b"));
    held.push_back(limiter.admit("c"));
    for (const auto& s : held) EXPECT_TRUE(s.admitted());
    ConnectionLimiter::Slot d = limiter.admit("d");
    EXPECT_FALSE(d.admitted());
    EXPECT_EQ(d.refusal(), Refusal::kTotal);
    EXPECT_EQ(limiter.active(), 3);
    EXPECT_EQ(limiter.active("d"), 0);  // a refusal holds nothing
}

TEST(ConnectionLimiterTest, DestroyingASlotFreesIt) {
    ConnectionLimiter limiter({/*max_total=*/1, /*max_per_client=*/1});
    {
        ConnectionLimiter::Slot s = limiter.admit("a");
        ASSERT_TRUE(s.admitted());
        EXPECT_FALSE(limiter.admit("b").admitted());
    }
    EXPECT_EQ(limiter.active(), 0);
    EXPECT_EQ(limiter.active("a"), 0);
    EXPECT_TRUE(limiter.admit("b").admitted());
}

TEST(ConnectionLimiterTest, AMovedSlotIsReleasedOnce) {
    ConnectionLimiter limiter({/*max_total=*/2, /*max_per_client=*/0});
    ConnectionLimiter::Slot s = limiter.admit("a");
    ConnectionLimiter::Slot moved = std::move(s);
    EXPECT_TRUE(moved.admitted());
    EXPECT_EQ(limiter.active(), 1);
    ConnectionLimiter::Slot other = limiter.admit("b");
    other = std::move(moved);  // releases b's slot, takes a's
    EXPECT_EQ(limiter.active(), 1);
    EXPECT_EQ(limiter.active("b"), 0);
    EXPECT_EQ(limiter.active("a"), 1);
}

TEST(ConnectionLimiterTest, ZeroMeansNoCap) {
    ConnectionLimiter limiter({/*max_total=*/0, /*max_per_client=*/0});
    std::vector<ConnectionLimiter::Slot> held;
    for (int i = 0; i < 500; ++i) held.push_back(limiter.admit("127.0.0.1"));
    for (const auto& s : held) EXPECT_TRUE(s.admitted());
    EXPECT_EQ(limiter.active("127.0.0.1"), 500);
}

}  // namespace
}  // namespace kasten::api
