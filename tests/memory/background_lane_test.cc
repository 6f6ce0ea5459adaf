#include "memory/background_lane.h"

#include <gtest/gtest.h>

#include <atomic>
#include <stdexcept>
#include <thread>
#include <vector>

#include "common/thread_priority.h"

namespace kasten::memory {
namespace {

TEST(BackgroundLaneTest, RunsTheTaskOnItsOwnThreadAtTheLowestPriority) {
    const int caller_before = current_thread_nice().value();
    BackgroundLane lane;
    std::thread::id ran_on;
    int nice_inside = -100;
    lane.run([&] {
        ran_on = std::this_thread::get_id();
        nice_inside = current_thread_nice().value();
    });
    EXPECT_NE(ran_on, std::thread::id());
    EXPECT_NE(ran_on, std::this_thread::get_id());
    EXPECT_EQ(nice_inside, 19);
    EXPECT_EQ(lane.nice(), 19);
    EXPECT_EQ(lane.tasks_run(), 1u);
    EXPECT_EQ(current_thread_nice().value(), caller_before);  // the caller keeps its own priority
}

// Many callers at once: every task runs exactly once, a caller's tasks in the order it handed them over, and each
// call returns only after its task has run.
TEST(BackgroundLaneTest, EveryTaskRunsOnceAndEachCallerSeesItsOwnOrder) {
    BackgroundLane lane;
    constexpr int kCallers = 8;
    constexpr int kTasks = 500;
    std::vector<std::vector<int>> seen(kCallers);  // written only by the lane thread, one task at a time
    std::atomic<int> not_done_on_return{0};
    std::vector<std::thread> callers;
    for (int c = 0; c < kCallers; ++c) {
        callers.emplace_back([&, c] {
            for (int i = 0; i < kTasks; ++i) {
                bool ran = false;
                lane.run([&] {
                    seen[static_cast<size_t>(c)].push_back(i);
                    ran = true;
                });
                if (!ran) not_done_on_return.fetch_add(1);
            }
        });
    }
    for (auto& t : callers) t.join();
    EXPECT_EQ(not_done_on_return.load(), 0);
    EXPECT_EQ(lane.tasks_run(), static_cast<std::uint64_t>(kCallers * kTasks));
    for (int c = 0; c < kCallers; ++c) {
        ASSERT_EQ(seen[static_cast<size_t>(c)].size(), static_cast<size_t>(kTasks)) << "caller " << c;
        for (int i = 0; i < kTasks; ++i) EXPECT_EQ(seen[static_cast<size_t>(c)][static_cast<size_t>(i)], i);
    }
}

TEST(BackgroundLaneTest, AnExceptionReachesItsCallerAndTheLaneGoesOn) {
    BackgroundLane lane;
    EXPECT_THROW(lane.run([] { throw std::runtime_error("bulk work failed"); }), std::runtime_error);
    int after = 0;
    lane.run([&] { after = 7; });
    EXPECT_EQ(after, 7);
    EXPECT_EQ(lane.tasks_run(), 2u);
}

}  // namespace
}  // namespace kasten::memory
