#include "eval/parallel_for.h"

#include <gtest/gtest.h>

#include <atomic>
#include <vector>

namespace kasten::eval {
namespace {

TEST(ParallelForTest, VisitsEveryIndexOnce) {
    std::vector<std::atomic<int>> seen(100);
    ASSERT_TRUE(parallel_for(100, 3, [&](std::int64_t i) {
                    seen[static_cast<size_t>(i)]++;
                    return Status::ok();
                }).is_ok());
    for (const auto& s : seen) EXPECT_EQ(s.load(), 1);
    EXPECT_TRUE(parallel_for(0, 2, [](std::int64_t) { return Status::internal("never"); }).is_ok());
}

TEST(ParallelForTest, StopsAtTheFirstError) {
    std::atomic<int> calls{0};
    Status st = parallel_for(1000, 1, [&](std::int64_t i) {
        ++calls;
        return i == 5 ? Status::not_found("item 5") : Status::ok();
    });
    EXPECT_EQ(st.code(), StatusCode::kNotFound);
    EXPECT_EQ(calls.load(), 6);
}

}  // namespace
}  // namespace kasten::eval
