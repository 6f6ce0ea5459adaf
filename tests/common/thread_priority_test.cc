#include "common/thread_priority.h"

#include <gtest/gtest.h>

#include <thread>

namespace kasten {
namespace {

TEST(ThreadPriorityTest, LoweringChangesOnlyTheCallingThreadAndStopsAtNineteen) {
    auto main_nice = current_thread_nice();
    ASSERT_TRUE(main_nice.is_ok()) << main_nice.status().to_string();
    int before = 0, after_three = 0, after_all = 0;
    std::thread t([&] {
        before = current_thread_nice().value();
        after_three = lower_current_thread_priority(3).value();
        after_all = lower_current_thread_priority(100).value();
        EXPECT_EQ(current_thread_nice().value(), after_all);
    });
    t.join();
    EXPECT_EQ(before, *main_nice);  // a new thread starts at its creator's nice value
    EXPECT_EQ(after_three, std::min(19, before + 3));
    EXPECT_EQ(after_all, 19);
    EXPECT_EQ(current_thread_nice().value(), *main_nice);  // per thread, not per process
}

TEST(ThreadPriorityTest, RaisingIsRefused) {
    auto r = lower_current_thread_priority(-1);
    ASSERT_FALSE(r.is_ok());
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace kasten
