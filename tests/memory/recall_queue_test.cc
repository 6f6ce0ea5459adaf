#include "memory/recall_queue.h"

#include <gtest/gtest.h>

#include "memory/memory_strength.h"

namespace kasten::memory {
namespace {

TEST(RecallQueueTest, RepeatedRecallsRefreshFromTheQueuedStrength) {
    RecallQueue q;
    q.recall("c", "n", 100, 1.0);
    q.recall("c", "n", 50, 1.0);  // an older time never moves last_access back
    RecallQueue::Recall r;
    ASSERT_TRUE(q.overlay("c", "n", &r));
    EXPECT_EQ(r.last_access, 100);
    EXPECT_DOUBLE_EQ(r.strength, refreshed_strength(refreshed_strength(1.0)));
    EXPECT_FALSE(q.overlay("c", "other", &r));
    EXPECT_FALSE(q.overlay("d", "n", &r));
    EXPECT_EQ(q.size(), 1);
}

TEST(RecallQueueTest, ForgettingACubeDropsOnlyItsRecalls) {
    RecallQueue q;
    q.recall("a", "n1", 1, 1.0);
    q.recall("a", "n2", 1, 1.0);
    q.recall("b", "n1", 1, 1.0);
    q.forget_cube("a");
    EXPECT_EQ(q.size(), 1);
    RecallQueue::Recall r;
    EXPECT_TRUE(q.overlay("b", "n1", &r));
}

}  // namespace
}  // namespace kasten::memory
