#include "eval/evidence_recall.h"

#include <gtest/gtest.h>

namespace kasten::eval {
namespace {

TEST(EvidenceRecallTest, OfficialShareWithDuplicatesAndNoEvidence) {
    EXPECT_DOUBLE_EQ(evidence_recall({"D1:1", "D2:3"}, {"D2:3", "D5:1"}), 0.5);
    EXPECT_DOUBLE_EQ(evidence_recall({"D1:1", "D1:1", "D2:3"}, {"D1:1"}), 2.0 / 3.0);
    EXPECT_DOUBLE_EQ(evidence_recall({}, {"D1:1"}), 1.0);
    EXPECT_DOUBLE_EQ(evidence_recall({"D8:6; D9:17"}, {"D8:6", "D9:17"}), 0.0);  // compared as written
}

TEST(EvidenceRecallTest, ScoresEachCutoff) {
    const auto m = score_evidence_ranking({"a", "x", "b", "y"}, {"a", "b"}, {1, 2, 3, 10});
    EXPECT_DOUBLE_EQ(m.at("recall@1"), 0.5);
    EXPECT_DOUBLE_EQ(m.at("recall@2"), 0.5);
    EXPECT_DOUBLE_EQ(m.at("recall@3"), 1.0);
    EXPECT_DOUBLE_EQ(m.at("recall@10"), 1.0);
    EXPECT_DOUBLE_EQ(m.at("recall_all@2"), 0.0);
    EXPECT_DOUBLE_EQ(m.at("recall_all@3"), 1.0);
    EXPECT_EQ(evidence_metric_names({1, 5}),
              (std::vector<std::string>{"recall@1", "recall@5", "recall_all@1", "recall_all@5"}));
}

}  // namespace
}  // namespace kasten::eval
