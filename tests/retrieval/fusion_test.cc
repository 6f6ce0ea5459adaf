#include "retrieval/fusion.h"

#include <gtest/gtest.h>

namespace kasten::retrieval {
namespace {

std::vector<std::string> ids_of(const std::vector<FusedHit>& hits) {
    std::vector<std::string> out;
    for (const auto& h : hits) out.push_back(h.id);
    return out;
}

const std::vector<ScoredId> kLexical = {{"a", 10}, {"b", 5}, {"c", 1}};
const std::vector<ScoredId> kVector = {{"b", 0.9}, {"d", 0.8}};

TEST(FusionTest, ReciprocalRankHandComputed) {
    auto hits = fuse_reciprocal_rank(kLexical, kVector, 10);
    ASSERT_EQ(hits.size(), 4u);
    // b: 1/62 + 1/61, a: 1/61, d: 1/62, c: 1/63.
    EXPECT_EQ(ids_of(hits), (std::vector<std::string>{"b", "a", "d", "c"}));
    EXPECT_DOUBLE_EQ(hits[0].score, 1.0 / 62 + 1.0 / 61);
    EXPECT_DOUBLE_EQ(hits[1].score, 1.0 / 61);
    EXPECT_DOUBLE_EQ(hits[2].score, 1.0 / 62);
    EXPECT_DOUBLE_EQ(hits[3].score, 1.0 / 63);
    EXPECT_EQ(hits[0].lexical_rank, 2);
    EXPECT_EQ(hits[0].vector_rank, 1);
    EXPECT_DOUBLE_EQ(hits[0].lexical_score, 5);
    EXPECT_DOUBLE_EQ(hits[0].vector_score, 0.9);
    EXPECT_EQ(hits[1].vector_rank, -1);
    EXPECT_DOUBLE_EQ(hits[1].vector_score, 0);
    EXPECT_EQ(hits[2].lexical_rank, -1);
    EXPECT_EQ(hits[2].vector_rank, 2);
}

TEST(FusionTest, ReciprocalRankWeightsAndConstant) {
    auto hits = fuse_reciprocal_rank(kLexical, kVector, 10, /*rrf_k=*/0, /*w_lex=*/1, /*w_vec=*/3);
    // b: 1/2 + 3/1 = 3.5, d: 3/2 = 1.5, a: 1/1 = 1, c: 1/3.
    EXPECT_EQ(ids_of(hits), (std::vector<std::string>{"b", "d", "a", "c"}));
    EXPECT_DOUBLE_EQ(hits[0].score, 3.5);
    EXPECT_DOUBLE_EQ(hits[1].score, 1.5);
    EXPECT_DOUBLE_EQ(hits[3].score, 1.0 / 3);
}

TEST(FusionTest, TruncatesToK) {
    EXPECT_EQ(ids_of(fuse_reciprocal_rank(kLexical, kVector, 2)), (std::vector<std::string>{"b", "a"}));
    EXPECT_TRUE(fuse_reciprocal_rank(kLexical, kVector, 0).empty());
    EXPECT_TRUE(fuse_weighted(kLexical, kVector, -1).empty());
}

TEST(FusionTest, TiesBrokenById) {
    // Same ranks in mirrored lists: equal scores, so ids decide.
    auto hits = fuse_reciprocal_rank({{"z", 1}, {"y", 0.5}}, {{"y", 1}, {"z", 0.5}}, 10);
    EXPECT_EQ(ids_of(hits), (std::vector<std::string>{"y", "z"}));
    EXPECT_DOUBLE_EQ(hits[0].score, hits[1].score);
}

TEST(FusionTest, RepeatedIdKeepsBestRank) {
    auto hits = fuse_reciprocal_rank({{"a", 3}, {"b", 2}, {"a", 1}}, {}, 10);
    ASSERT_EQ(hits.size(), 2u);
    EXPECT_EQ(hits[0].id, "a");
    EXPECT_EQ(hits[0].lexical_rank, 1);
    EXPECT_DOUBLE_EQ(hits[0].lexical_score, 3);
}

TEST(FusionTest, EmptyInputs) {
    EXPECT_TRUE(fuse_reciprocal_rank({}, {}, 10).empty());
    EXPECT_TRUE(fuse_weighted({}, {}, 10).empty());
    auto only_vec = fuse_reciprocal_rank({}, kVector, 10);
    EXPECT_EQ(ids_of(only_vec), (std::vector<std::string>{"b", "d"}));
}

TEST(FusionTest, WeightedHandComputed) {
    auto hits = fuse_weighted(kLexical, kVector, 10);
    // lexical normalised: a 1, b 4/9, c 0; vector normalised: b 1, d 0.
    ASSERT_EQ(hits.size(), 4u);
    EXPECT_EQ(ids_of(hits), (std::vector<std::string>{"b", "a", "c", "d"}));
    EXPECT_DOUBLE_EQ(hits[0].score, 4.0 / 9 + 1);
    EXPECT_DOUBLE_EQ(hits[1].score, 1);
    EXPECT_DOUBLE_EQ(hits[2].score, 0);
    EXPECT_DOUBLE_EQ(hits[3].score, 0);

    auto weighted = fuse_weighted(kLexical, kVector, 10, /*w_lex=*/0.5, /*w_vec=*/2);
    // b: 0.5 * 4/9 + 2, a: 0.5.
    EXPECT_EQ(weighted[0].id, "b");
    EXPECT_DOUBLE_EQ(weighted[0].score, 0.5 * 4.0 / 9 + 2);
    EXPECT_DOUBLE_EQ(weighted[1].score, 0.5);
}

TEST(FusionTest, WeightedConstantListNormalisesToOne) {
    auto hits = fuse_weighted({{"a", 2}, {"b", 2}}, {{"c", 0.3}}, 10);
    ASSERT_EQ(hits.size(), 3u);
    EXPECT_EQ(ids_of(hits), (std::vector<std::string>{"a", "b", "c"}));
    for (const auto& h : hits) EXPECT_DOUBLE_EQ(h.score, 1);
}

}  // namespace
}  // namespace kasten::retrieval
