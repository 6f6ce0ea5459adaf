#include "eval/retrieval_metrics.h"

#include <gtest/gtest.h>

#include <cmath>

namespace kasten::eval {
namespace {

const std::vector<std::string> kIds = {"answer_g1", "x", "answer_g2", "y", "z"};
const std::vector<std::string> kGold = {"answer_g1", "answer_g2"};
const std::vector<int> kRanking = {1, 0, 3, 2, 4};  // x, g1, y, g2, z

TEST(RetrievalMetricsTest, HandComputedRecallAndNdcg) {
    auto k1 = evaluate_retrieval(kRanking, kGold, kIds, 1);
    EXPECT_EQ(k1.recall_any, 0);
    EXPECT_EQ(k1.recall_all, 0);
    EXPECT_EQ(k1.ndcg_any, 0);
    // Top 3 = x, g1, y: DCG = 0 + 1/log2(2) = 1; IDCG = 1 + 1/log2(2) = 2.
    auto k3 = evaluate_retrieval(kRanking, kGold, kIds, 3);
    EXPECT_EQ(k3.recall_any, 1);
    EXPECT_EQ(k3.recall_all, 0);
    EXPECT_DOUBLE_EQ(k3.ndcg_any, 0.5);
    // Top 5: DCG = 1/log2(2) + 1/log2(4) = 1.5; IDCG = 2.
    auto k5 = evaluate_retrieval(kRanking, kGold, kIds, 5);
    EXPECT_EQ(k5.recall_all, 1);
    EXPECT_DOUBLE_EQ(k5.ndcg_any, 0.75);
    // k beyond the corpus changes nothing.
    EXPECT_DOUBLE_EQ(evaluate_retrieval(kRanking, kGold, kIds, 50).ndcg_any, 0.75);
    // Gold at ranks 1 and 3: DCG = 1 + 1/log2(3).
    std::vector<int> r2 = {0, 1, 2, 3, 4};
    EXPECT_NEAR(evaluate_retrieval(r2, kGold, kIds, 3).ndcg_any, (1 + 1 / std::log2(3.0)) / 2, 1e-12);
}

TEST(RetrievalMetricsTest, NoGoldGivesRecallAllOneAndNdcgZero) {
    auto s = evaluate_retrieval(kRanking, {}, kIds, 5);
    EXPECT_EQ(s.recall_any, 0);
    EXPECT_EQ(s.recall_all, 1);
    EXPECT_EQ(s.ndcg_any, 0);
}

TEST(RetrievalMetricsTest, RelevanceIsPerDocumentWhenIdsRepeat) {
    std::vector<std::string> ids = {"s", "answer_1", "answer_1"};
    std::vector<int> ranking = {1, 0, 2};
    EXPECT_DOUBLE_EQ(evaluate_retrieval(ranking, {"answer_1"}, ids, 1).ndcg_any, 1.0);
    // IDCG@2 counts both copies: 2; DCG@2 = 1.
    EXPECT_DOUBLE_EQ(evaluate_retrieval(ranking, {"answer_1"}, ids, 2).ndcg_any, 0.5);
}

TEST(RetrievalMetricsTest, TurnToSessionEnlargesKUntilKDistinctSessions) {
    std::vector<std::string> ids = {"s1_1", "s1_3", "answer_a_1", "noans_a_3", "s2_1", "answer_b_2"};
    std::vector<std::string> gold = {"answer_a_1", "answer_b_2"};  // sessions answer_a, answer_b
    std::vector<int> ranking = {0, 1, 3, 2, 4, 5};                 // sessions s1, s1, noans_a, answer_a, s2, answer_b

    auto k1 = evaluate_retrieval_turn2session(ranking, gold, ids, 1);
    EXPECT_EQ(k1.recall_any, 0);
    EXPECT_EQ(k1.ndcg_any, 0);
    // k = 3 needs 4 turns for 3 sessions (s1, noans_a, answer_a): answer_a is in, answer_b is not.
    // Session relevances of the ranked turns [0, 0, 0, 1]: DCG@4 = 1/log2(4); IDCG@4 = 1 + 1.
    auto k3 = evaluate_retrieval_turn2session(ranking, gold, ids, 3);
    EXPECT_EQ(k3.recall_any, 1);
    EXPECT_EQ(k3.recall_all, 0);
    EXPECT_DOUBLE_EQ(k3.ndcg_any, 0.25);
    // k = 5 needs all 6 turns; DCG@6 = 1/log2(4) + 1/log2(6).
    auto k5 = evaluate_retrieval_turn2session(ranking, gold, ids, 5);
    EXPECT_EQ(k5.recall_all, 1);
    EXPECT_NEAR(k5.ndcg_any, (0.5 + 1 / std::log2(6.0)) / 2, 1e-12);
    // k = 10 exceeds the corpus: no enlargement, everything is in.
    auto k10 = evaluate_retrieval_turn2session(ranking, gold, ids, 10);
    EXPECT_EQ(k10.recall_all, 1);
    EXPECT_NEAR(k10.ndcg_any, (0.5 + 1 / std::log2(6.0)) / 2, 1e-12);
    // Plain turn-level scoring of the same ranking at k = 3 misses both gold turns.
    EXPECT_EQ(evaluate_retrieval(ranking, gold, ids, 3).recall_any, 0);
}

TEST(RetrievalMetricsTest, ScoreRankingCoversEveryCutoff) {
    MetricMap m = score_ranking(kRanking, kGold, kIds);
    EXPECT_EQ(m.size(), 18u);
    EXPECT_EQ(m.at("recall_all@3"), 0);
    EXPECT_EQ(m.at("recall_all@5"), 1);
    EXPECT_DOUBLE_EQ(m.at("ndcg_any@3"), 0.5);
    EXPECT_EQ(retrieval_metric_names().size(), 18u);
    EXPECT_EQ(retrieval_metric_names()[1], "recall_all@1");
    MetricMap t = score_ranking_turn2session(kRanking, kGold, kIds);
    EXPECT_EQ(t.size(), 18u);
}

}  // namespace
}  // namespace kasten::eval
