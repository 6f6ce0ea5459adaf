#include "memory/granularity_router.h"

#include <gtest/gtest.h>

namespace kasten::memory {
namespace {

SearchHit hit(const std::string& id, double rank_score) {
    SearchHit h;
    h.id = id;
    h.rank_score = rank_score;
    return h;
}

TEST(GranularityRouterTest, ScoreEntropyIsOneForAFlatListAndLowForAPeakedOne) {
    EXPECT_DOUBLE_EQ(score_entropy({}), 0.0);
    EXPECT_DOUBLE_EQ(score_entropy({0.7}), 0.0);
    EXPECT_NEAR(score_entropy({0.5, 0.5, 0.5, 0.5}), 1.0, 1e-12);
    EXPECT_LT(score_entropy({1.0, 0.01, 0.01, 0.01}), 0.3);
    EXPECT_DOUBLE_EQ(score_entropy({0.0, 0.0}), 1.0);
    // Only the top 10 count: an 11th score does not change it.
    const std::vector<double> ten(10, 0.2);
    std::vector<double> eleven = ten;
    eleven.push_back(5.0);
    EXPECT_DOUBLE_EQ(score_entropy(ten), score_entropy(eleven));
}

TEST(GranularityRouterTest, ADecisiveGranularityGetsMoreWeightAndWeightsSumToOne) {
    auto w = granularity_weights({{Granularity::kTurn, {1.0, 0.02, 0.02, 0.02}},
                                  {Granularity::kSession, {0.5, 0.5, 0.5, 0.5}},
                                  {Granularity::kNote, {}}});
    ASSERT_EQ(w.size(), 2u);  // a granularity without hits gets no weight
    EXPECT_GT(w[Granularity::kTurn], w[Granularity::kSession]);
    EXPECT_GT(w[Granularity::kSession], 0.0);  // the floor keeps a flat list in play
    EXPECT_NEAR(w[Granularity::kTurn] + w[Granularity::kSession], 1.0, 1e-12);
}

TEST(GranularityRouterTest, TheBestHitInsideANamedTimeCountsAsABestMatch) {
    const std::vector<SearchHit> all = {hit("a", 4.0), hit("b", 2.0), hit("c", 1.0)};
    auto plain = hit_relevance(all, {});
    EXPECT_DOUBLE_EQ(plain["a"], 1.0);
    EXPECT_DOUBLE_EQ(plain["b"], 0.5);
    EXPECT_DOUBLE_EQ(plain["c"], 0.25);
    // "c" is the best match inside the named time, "d" the second one, missing from the whole-cube list.
    auto timed = hit_relevance(all, {hit("c", 3.0), hit("d", 1.5)});
    EXPECT_DOUBLE_EQ(timed["a"], 1.0);
    EXPECT_DOUBLE_EQ(timed["b"], 0.5);
    EXPECT_DOUBLE_EQ(timed["c"], 1.0);
    EXPECT_DOUBLE_EQ(timed["d"], 0.5);
    // In-window relevance never lowers a hit's relevance in the whole cube.
    auto lower = hit_relevance(all, {hit("c", 1.0), hit("a", 0.5)});
    EXPECT_DOUBLE_EQ(lower["a"], 1.0);
    EXPECT_DOUBLE_EQ(lower["c"], 1.0);
}

TEST(GranularityRouterTest, ASessionLiftsItsMatchingTurnsButNeverAnOffTopicOne) {
    // The best key: the turn's own text or one of its notes.
    EXPECT_DOUBLE_EQ(fused_turn_relevance(0.4, 0.0, 0.0, 0.5), 0.4);
    EXPECT_DOUBLE_EQ(fused_turn_relevance(0.0, 0.6, 0.0, 0.5), 0.6);
    EXPECT_DOUBLE_EQ(fused_turn_relevance(0.3, 0.6, 0.0, 0.5), 0.6);
    // A relevant session raises its matching turns in proportion to the session weight.
    EXPECT_DOUBLE_EQ(fused_turn_relevance(0.4, 0.0, 1.0, 0.5), 0.6);
    EXPECT_GT(fused_turn_relevance(0.4, 0.0, 1.0, 0.5), fused_turn_relevance(0.4, 0.0, 0.2, 0.5));
    EXPECT_GT(fused_turn_relevance(0.4, 0.0, 1.0, 0.8), fused_turn_relevance(0.4, 0.0, 1.0, 0.2));
    // A turn that matches nothing stays irrelevant in the best session.
    EXPECT_DOUBLE_EQ(fused_turn_relevance(0.0, 0.0, 1.0, 1.0), 0.0);
}

}  // namespace
}  // namespace kasten::memory
