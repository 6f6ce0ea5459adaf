#include "memory/aspect_coverage.h"

#include <cmath>

#include <gtest/gtest.h>

namespace kasten::memory {
namespace {

std::vector<retrieval::FusedHit> hits(const std::vector<std::pair<std::string, double>>& scored) {
    std::vector<retrieval::FusedHit> out;
    for (const auto& [id, score] : scored) {
        retrieval::FusedHit h;
        h.id = id;
        h.score = score;
        out.push_back(h);
    }
    return out;
}

std::vector<std::string> ids(const std::vector<retrieval::FusedHit>& fused) {
    std::vector<std::string> out;
    for (const auto& h : fused) out.push_back(h.id);
    return out;
}

TEST(QueryAspectsTest, WeightsByIdfAndSumsToOne) {
    const auto a = query_aspects({"moma", "visit", "exhibit"}, {1, 40, 5}, 100);
    ASSERT_EQ(a.size(), 3u);
    EXPECT_EQ(a[0].term, "moma");
    EXPECT_GT(a[0].weight, a[2].weight);  // rarer weighs more
    EXPECT_GT(a[2].weight, a[1].weight);
    EXPECT_NEAR(a[0].weight + a[1].weight + a[2].weight, 1.0, 1e-12);
    EXPECT_NEAR(a[0].weight / a[1].weight, std::log(1 + 99.5 / 1.5) / std::log(1 + 60.5 / 40.5), 1e-9);
}

TEST(QueryAspectsTest, DropsUnseenAndRepeatedTermsAndNeedsTwo) {
    const auto a = query_aspects({"moma", "moma", "zzz", "exhibit"}, {1, 1, 0, 5}, 100);
    ASSERT_EQ(a.size(), 2u);
    EXPECT_EQ(a[0].term, "moma");
    EXPECT_EQ(a[1].term, "exhibit");
    EXPECT_TRUE(query_aspects({"moma", "zzz"}, {1, 0}, 100).empty());
    EXPECT_TRUE(query_aspects({}, {}, 100).empty());
}

TEST(AspectCoverageTest, AUnitCoveringAMissingAspectRisesAboveOnesRepeatingTheDominantOne) {
    // "visit to the MoMA and the Ancient Civilizations exhibit": three MoMA turns outrank the exhibit turn.
    auto fused = hits({{"moma1", 1.0}, {"moma2", 0.9}, {"moma3", 0.8}, {"exhibit", 0.6}, {"other", 0.5}});
    const std::vector<QueryAspect> aspects = {{"moma", 0.5}, {"exhibit", 0.5}};
    const std::vector<std::vector<std::string>> terms = {{"moma", "visit"}, {"moma"}, {"moma"}, {"exhibit"}, {"x"}};
    auto light = fused;
    rerank_by_aspect_coverage(light, aspects, terms, 0.25);  // 0.6 + 0.25 × 0.5 < 0.8: too little to move
    EXPECT_EQ(ids(light), (std::vector<std::string>{"moma1", "moma2", "moma3", "exhibit", "other"}));
    rerank_by_aspect_coverage(fused, aspects, terms, 1.0);
    EXPECT_EQ(ids(fused), (std::vector<std::string>{"moma1", "exhibit", "moma2", "moma3", "other"}));
    // Scores: top × (own / top + weight × new aspects' share), non-increasing.
    EXPECT_DOUBLE_EQ(fused[0].score, 1.0 + 0.5);
    EXPECT_DOUBLE_EQ(fused[1].score, 0.6 + 0.5);
    EXPECT_DOUBLE_EQ(fused[2].score, 0.9);
    EXPECT_DOUBLE_EQ(fused[4].score, 0.5);
}

TEST(AspectCoverageTest, NoGainForDifferingFromTheUnitsAbove) {
    // A unit holding no query aspect keeps its place: coverage rewards the query, not being different.
    auto fused = hits({{"a", 1.0}, {"b", 0.9}, {"c", 0.8}});
    rerank_by_aspect_coverage(fused, {{"moma", 0.5}, {"exhibit", 0.5}}, {{"moma"}, {"moma"}, {"unrelated"}}, 1.0);
    EXPECT_EQ(ids(fused), (std::vector<std::string>{"a", "b", "c"}));
}

TEST(AspectCoverageTest, OnlyTheFirstDepthUnitsMoveAndTheRestStayBelow) {
    auto fused = hits({{"a", 1.0}, {"b", 0.9}, {"c", 0.8}, {"d", 0.7}});
    // unit_terms covers the first three: "d" (which would cover the missing aspect) is beyond the depth.
    rerank_by_aspect_coverage(fused, {{"x", 0.5}, {"y", 0.5}}, {{"x"}, {"x"}, {"x"}}, 1.0);
    EXPECT_EQ(ids(fused), (std::vector<std::string>{"a", "b", "c", "d"}));
    for (std::size_t i = 1; i < fused.size(); ++i) EXPECT_LE(fused[i].score, fused[i - 1].score);
}

TEST(AspectCoverageTest, WeightZeroOrNoAspectsChangesNothing) {
    const auto before = hits({{"a", 1.0}, {"b", 0.9}});
    auto fused = before;
    rerank_by_aspect_coverage(fused, {{"x", 0.5}, {"y", 0.5}}, {{"x"}, {"y"}}, 0.0);
    EXPECT_EQ(ids(fused), ids(before));
    EXPECT_DOUBLE_EQ(fused[1].score, 0.9);
    rerank_by_aspect_coverage(fused, {}, {{"x"}, {"y"}}, 1.0);
    EXPECT_DOUBLE_EQ(fused[0].score, 1.0);
}

}  // namespace
}  // namespace kasten::memory
