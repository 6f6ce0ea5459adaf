#include "memory/idle_helper.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <thread>
#include <vector>

namespace kasten::memory {
namespace {

TEST(IdleHelperTest, AnIdleHelperRunsTheSideTaskOnItsOwnThread) {
    IdleHelper helper;
    std::thread::id here_on;
    std::atomic<std::thread::id> there_on{};
    helper.run_both(
        [&] {
            here_on = std::this_thread::get_id();
            // Busy until the helper has run the side task (it is idle, so it starts it; bounded for a stalled machine).
            const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(20);
            while (there_on.load() == std::thread::id() && std::chrono::steady_clock::now() < until) {
                std::this_thread::yield();
            }
        },
        [&] { there_on = std::this_thread::get_id(); });
    EXPECT_EQ(here_on, std::this_thread::get_id());
    EXPECT_NE(there_on.load(), std::thread::id());
    EXPECT_NE(there_on.load(), here_on);
    EXPECT_EQ(helper.handed_off(), 1u);
    EXPECT_EQ(helper.taken_back(), 0u);
}

// A side task the helper has not started when the caller's half is done is run by the caller: over many calls whose
// own half is instant, each side task runs once, on the helper or (taken back) on the caller.
TEST(IdleHelperTest, ASideTaskNotYetStartedIsTakenBackByTheCaller) {
    IdleHelper helper;
    constexpr int kCalls = 2000;
    int on_caller = 0, on_helper = 0;
    for (int i = 0; i < kCalls; ++i) {
        std::thread::id there_on;
        helper.run_both([] {}, [&] { there_on = std::this_thread::get_id(); });
        ASSERT_NE(there_on, std::thread::id()) << i;
        (there_on == std::this_thread::get_id() ? on_caller : on_helper) += 1;
    }
    EXPECT_EQ(helper.taken_back(), static_cast<std::uint64_t>(on_caller));
    EXPECT_EQ(helper.handed_off(), static_cast<std::uint64_t>(on_helper));
    EXPECT_EQ(on_caller + on_helper, kCalls);
}

TEST(IdleHelperTest, ABusyHelperLeavesBothTasksToTheCaller) {
    IdleHelper helper;
    std::atomic<bool> first_holds{false};
    std::atomic<bool> release{false};
    std::thread first([&] {
        helper.run_both(
            [&] {
                first_holds = true;
                while (!release) std::this_thread::yield();
            },
            [] {});
    });
    while (!first_holds) std::this_thread::yield();
    std::thread::id there_on;
    int order = 0, here_at = 0, there_at = 0;
    helper.run_both([&] { here_at = ++order; },
                    [&] {
                        there_at = ++order;
                        there_on = std::this_thread::get_id();
                    });
    EXPECT_EQ(there_on, std::this_thread::get_id());  // not handed off: the helper belongs to `first`
    EXPECT_EQ(here_at, 1);
    EXPECT_EQ(there_at, 2);
    release = true;
    first.join();
    EXPECT_EQ(helper.handed_off() + helper.taken_back(), 1u);  // `first` offered its side task
}

TEST(IdleHelperTest, ExceptionsReachTheCaller) {
    IdleHelper helper;
    EXPECT_THROW(helper.run_both([] {}, [] { throw std::runtime_error("there"); }), std::runtime_error);
    EXPECT_THROW(helper.run_both([] { throw std::logic_error("here"); }, [] {}), std::logic_error);
    std::atomic<int> ran{0};                                                // both halves may run at once
    helper.run_both([&] { ran.fetch_add(1); }, [&] { ran.fetch_add(1); });  // still usable
    EXPECT_EQ(ran.load(), 2);
}

TEST(IdleHelperTest, EveryTaskRunsExactlyOnceUnderContention) {
    IdleHelper helper;
    constexpr int kThreads = 6;
    constexpr int kCalls = 3000;
    std::vector<int> here_count(kThreads * kCalls, 0), there_count(kThreads * kCalls, 0);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < kCalls; ++i) {
                const int slot = t * kCalls + i;
                helper.run_both([&] { ++here_count[slot]; }, [&] { ++there_count[slot]; });
            }
        });
    }
    for (auto& th : threads) th.join();
    for (int i = 0; i < kThreads * kCalls; ++i) {
        ASSERT_EQ(here_count[i], 1) << i;
        ASSERT_EQ(there_count[i], 1) << i;
    }
    EXPECT_GT(helper.handed_off() + helper.taken_back(), 0u);
}

}  // namespace
}  // namespace kasten::memory
