#include "eval/longmemeval_averages.h"

#include <gtest/gtest.h>

namespace kasten::eval {
namespace {

TEST(LongMemEvalAveragesTest, StrictSkipsAbstentionAndNoEvidenceNoAbsSkipsOnlyAbstention) {
    LongMemEvalAverager avg;
    avg.add("multi-session", false, true, {{"recall_all@5", 1.0}, {"ndcg_any@5", 0.5}});
    avg.add("multi-session", false, true, {{"recall_all@5", 0.0}, {"ndcg_any@5", 0.25}});
    // No user-side evidence (SSA): no gold, so recall_all 1 and ndcg 0 — only in no_abs.
    avg.add("single-session-assistant", false, false, {{"recall_all@5", 1.0}, {"ndcg_any@5", 0.0}});
    // Abstention: in neither.
    avg.add("multi-session", true, true, {{"recall_all@5", 0.0}, {"ndcg_any@5", 0.0}});

    AverageSet s = avg.result();
    EXPECT_EQ(s.strict.n, 2);
    EXPECT_DOUBLE_EQ(s.strict.mean.at("recall_all@5"), 0.5);
    EXPECT_DOUBLE_EQ(s.strict.mean.at("ndcg_any@5"), 0.375);
    EXPECT_EQ(s.no_abs.n, 3);
    EXPECT_DOUBLE_EQ(s.no_abs.mean.at("recall_all@5"), 2.0 / 3.0);
    EXPECT_DOUBLE_EQ(s.no_abs.mean.at("ndcg_any@5"), 0.25);

    EXPECT_EQ(s.strict_by_type.count("single-session-assistant"), 0u);
    EXPECT_EQ(s.no_abs_by_type.at("single-session-assistant").n, 1);
    EXPECT_EQ(s.strict_by_type.at("multi-session").n, 2);
    EXPECT_EQ(s.no_abs_by_type.at("multi-session").n, 2);
}

TEST(LongMemEvalAveragesTest, EmptyAverageHasNoMeans) {
    AverageSet s = LongMemEvalAverager().result();
    EXPECT_EQ(s.strict.n, 0);
    EXPECT_TRUE(s.strict.mean.empty());
}

}  // namespace
}  // namespace kasten::eval
