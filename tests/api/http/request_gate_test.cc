#include "api/http/request_gate.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

namespace kasten::api {
namespace {

TEST(RequestGateTest, UpToTheLimitEnterAtOnce) {
    RequestGate gate(2);
    {
        RequestGate::Pass a = gate.enter();
        RequestGate::Pass b = gate.enter();
        EXPECT_EQ(gate.active(), 2);
        EXPECT_EQ(gate.waiting(), 0);
    }
    EXPECT_EQ(gate.active(), 0);
    EXPECT_EQ(gate.waited_total(), 0u);
}

TEST(RequestGateTest, AMovedPassReleasesOnce) {
    RequestGate gate(1);
    {
        std::optional<RequestGate::Pass> held;
        RequestGate::Pass a = gate.enter();
        held.emplace(std::move(a));
        EXPECT_EQ(gate.active(), 1);
    }
    EXPECT_EQ(gate.active(), 0);
    RequestGate::Pass again = gate.enter();  // would block forever had the slot leaked
    EXPECT_EQ(gate.active(), 1);
}

TEST(RequestGateTest, WaitersAreAdmittedInArrivalOrder) {
    RequestGate gate(1);
    std::optional<RequestGate::Pass> first(gate.enter());
    constexpr int kWaiters = 6;
    std::mutex mu;
    std::vector<int> admitted;
    std::vector<std::thread> threads;
    for (int i = 0; i < kWaiters; ++i) {
        threads.emplace_back([&, i] {
            RequestGate::Pass p = gate.enter();
            std::lock_guard<std::mutex> lock(mu);
            admitted.push_back(i);
        });
        // The next thread starts only once this one is queued: arrival order is 0, 1, 2, ...
        while (gate.waiting() != i + 1) std::this_thread::yield();
    }
    EXPECT_EQ(gate.waited_total(), static_cast<std::uint64_t>(kWaiters));
    first.reset();
    for (auto& t : threads) t.join();
    ASSERT_EQ(admitted.size(), static_cast<size_t>(kWaiters));
    for (int i = 0; i < kWaiters; ++i) EXPECT_EQ(admitted[i], i);
    EXPECT_EQ(gate.active(), 0);
    EXPECT_EQ(gate.waiting(), 0);
}

TEST(RequestGateTest, ANewcomerDoesNotOvertakeAWaiter) {
    RequestGate gate(1);
    std::optional<RequestGate::Pass> first(gate.enter());
    std::atomic<int> order{0};
    int waiter_at = 0, newcomer_at = 0;
    std::thread waiter([&] {
        RequestGate::Pass p = gate.enter();
        waiter_at = ++order;
    });
    while (gate.waiting() != 1) std::this_thread::yield();
    std::thread newcomer([&] {
        RequestGate::Pass p = gate.enter();
        newcomer_at = ++order;
    });
    while (gate.waiting() != 2) std::this_thread::yield();
    first.reset();
    waiter.join();
    newcomer.join();
    EXPECT_EQ(waiter_at, 1);
    EXPECT_EQ(newcomer_at, 2);
}

TEST(RequestGateTest, NeverMoreHoldersThanTheLimitUnderContention) {
    constexpr int kLimit = 3;
    constexpr int kThreads = 8;
    constexpr int kCalls = 2000;
    RequestGate gate(kLimit);
    std::atomic<int> inside{0}, most{0};
    std::atomic<long> done{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&] {
            for (int i = 0; i < kCalls; ++i) {
                RequestGate::Pass p = gate.enter();
                const int now = inside.fetch_add(1) + 1;
                int seen = most.load();
                while (now > seen && !most.compare_exchange_weak(seen, now)) {
                }
                if (i % 7 == 0) std::this_thread::yield();
                inside.fetch_sub(1);
                done.fetch_add(1);
            }
        });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(done.load(), static_cast<long>(kThreads) * kCalls);
    EXPECT_LE(most.load(), kLimit);
    EXPECT_GE(most.load(), 1);
    EXPECT_EQ(gate.active(), 0);
    EXPECT_EQ(gate.waiting(), 0);
}

TEST(RequestGateTest, TheDefaultLimitIsEightPerHardwareThread) {
    EXPECT_EQ(effective_max_active_requests(5), 5);
    EXPECT_EQ(effective_max_active_requests(0), 8 * std::max(1, static_cast<int>(std::thread::hardware_concurrency())));
    EXPECT_EQ(RequestGate(0).max_active(), 1);  // a limit below 1 is 1
}

}  // namespace
}  // namespace kasten::api
