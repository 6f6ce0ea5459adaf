// FlatVectorIndex specifics beyond the shared contract (vector_index_contract_test.cc): partitions larger than one
// scoring block, and heavy swap-with-last churn.

#include "retrieval/flat_vector_index.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <random>

namespace kasten::retrieval {
namespace {

constexpr int kDim = 8;

std::vector<float> random_vector(std::mt19937& rng) {
    std::normal_distribution<float> normal;
    std::vector<float> v(kDim);
    for (auto& x : v) x = normal(rng);
    return v;
}

double cosine(const std::vector<float>& a, const std::vector<float>& b) {
    double dot = 0, na = 0, nb = 0;
    for (std::size_t i = 0; i < a.size(); ++i) {
        dot += static_cast<double>(a[i]) * b[i];
        na += static_cast<double>(a[i]) * a[i];
        nb += static_cast<double>(b[i]) * b[i];
    }
    return dot / std::sqrt(na * nb);
}

// Checks `index` against brute force over `rows` for a few random queries.
void expect_matches_brute_force(const FlatVectorIndex& index, const std::map<std::string, std::vector<float>>& rows,
                                std::mt19937& rng, int k) {
    SearchFilter f;
    f.cube_id = "c";
    for (int trial = 0; trial < 5; ++trial) {
        std::vector<float> q = random_vector(rng);
        std::vector<double> truth;
        for (const auto& [id, v] : rows) truth.push_back(cosine(q, v));
        std::sort(truth.rbegin(), truth.rend());
        auto hits = index.search(q, f, k);
        ASSERT_TRUE(hits.is_ok());
        ASSERT_EQ(hits->size(), std::min<std::size_t>(k, rows.size()));
        for (std::size_t i = 0; i < hits->size(); ++i) {
            const auto& h = (*hits)[i];
            ASSERT_TRUE(rows.count(h.id)) << h.id;
            EXPECT_NEAR(h.score, cosine(q, rows.at(h.id)), 1e-5);
            EXPECT_NEAR(h.score, truth[i], 1e-5);
        }
    }
}

TEST(FlatVectorIndexTest, SpansSeveralScoringBlocks) {
    std::mt19937 rng(7);
    FlatVectorIndex index(kDim);
    std::map<std::string, std::vector<float>> rows;
    for (int i = 0; i < 10000; ++i) {
        std::string id = "t" + std::to_string(i);
        rows[id] = random_vector(rng);
        ASSERT_TRUE(index.upsert(UnitAttrs{"c", UnitType::kTurn, id, i, "", ""}, rows[id]).is_ok());
    }
    expect_matches_brute_force(index, rows, rng, 50);
    // The single best row may sit in the last, partial block.
    std::vector<float> special(kDim, 0.0f);
    special[0] = 1.0f;
    ASSERT_TRUE(index.upsert(UnitAttrs{"c", UnitType::kTurn, "last", 0, "", ""}, special).is_ok());
    SearchFilter f;
    f.cube_id = "c";
    EXPECT_EQ(index.search(special, f, 1)->at(0).id, "last");
}

TEST(FlatVectorIndexTest, ChurnKeepsRowsConsistent) {
    std::mt19937 rng(11);
    FlatVectorIndex index(kDim);
    std::map<std::string, std::vector<float>> rows;
    std::uniform_int_distribution<int> id_pick(0, 999);
    std::uniform_int_distribution<int> op_pick(0, 2);
    for (int step = 0; step < 6000; ++step) {
        std::string id = "u" + std::to_string(id_pick(rng));
        if (op_pick(rng) == 0) {
            ASSERT_TRUE(index.remove("c", UnitType::kTurn, id).is_ok());
            rows.erase(id);
        } else {
            rows[id] = random_vector(rng);
            ASSERT_TRUE(index.upsert(UnitAttrs{"c", UnitType::kTurn, id, 0, "", ""}, rows[id]).is_ok());
        }
    }
    ASSERT_EQ(index.size("c", UnitType::kTurn), rows.size());
    std::vector<std::string> expected_ids;
    for (const auto& [id, v] : rows) expected_ids.push_back(id);
    EXPECT_EQ(index.ids("c", UnitType::kTurn), expected_ids);
    expect_matches_brute_force(index, rows, rng, 20);
    // Every row still finds itself first.
    SearchFilter f;
    f.cube_id = "c";
    int checked = 0;
    for (const auto& [id, v] : rows) {
        if (++checked > 100) break;
        auto hits = index.search(v, f, 1);
        ASSERT_TRUE(hits.is_ok());
        EXPECT_EQ(hits->at(0).id, id);
    }
}

}  // namespace
}  // namespace kasten::retrieval

namespace kasten::retrieval {
namespace {

TEST(FlatVectorIndexTest, SimilaritiesAreTheCosinesOfTheNamedUnits) {
    std::mt19937 rng(11);
    FlatVectorIndex index(kDim);
    std::map<std::string, std::vector<float>> rows;
    for (int i = 0; i < 300; ++i) {
        std::string id = "t" + std::to_string(i);
        rows[id] = random_vector(rng);
        ASSERT_TRUE(index.upsert(UnitAttrs{"c", UnitType::kTurn, id, i, "", ""}, rows[id]).is_ok());
    }
    ASSERT_TRUE(index.upsert(UnitAttrs{"other", UnitType::kTurn, "x", 0, "", ""}, rows["t1"]).is_ok());
    ASSERT_TRUE(index.remove("c", UnitType::kTurn, "t5").is_ok());  // moves the last row into its slot
    const std::vector<float> q = random_vector(rng);
    auto sims = index.similarities(q, "c", UnitType::kTurn, {"t0", "t299", "t5", "x", "t42"});
    ASSERT_TRUE(sims.is_ok()) << sims.status().to_string();
    ASSERT_EQ(sims->size(), 5u);
    EXPECT_NEAR(*(*sims)[0], cosine(q, rows["t0"]), 1e-5);
    EXPECT_NEAR(*(*sims)[1], cosine(q, rows["t299"]), 1e-5);
    EXPECT_FALSE((*sims)[2].has_value());  // removed
    EXPECT_FALSE((*sims)[3].has_value());  // another cube's
    EXPECT_NEAR(*(*sims)[4], cosine(q, rows["t42"]), 1e-5);
    // The same values search() reports.
    SearchFilter f;
    f.cube_id = "c";
    auto top = index.search(q, f, 3);
    ASSERT_TRUE(top.is_ok());
    for (const auto& hit : *top) {
        EXPECT_DOUBLE_EQ(*index.similarities(q, "c", UnitType::kTurn, {hit.id})->front(), hit.score);
    }
    EXPECT_FALSE(index.similarities(q, "c", UnitType::kSession, {"t0"})->front().has_value());
    EXPECT_EQ(index.similarities(std::vector<float>(3, 1.0f), "c", UnitType::kTurn, {"t0"}).status().code(),
              StatusCode::kInvalidArgument);
    EXPECT_EQ(index.similarities(q, "", UnitType::kTurn, {"t0"}).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace kasten::retrieval

namespace kasten::retrieval {
namespace {

// Rows closer to each other than the half-precision first pass can tell apart: the search must still return exactly
// the float scan's top k (scores from similarities(), ties by id), under a filter too.
TEST(FlatVectorIndexTest, NearTiesBeyondHalfPrecisionRankExactly) {
    constexpr int kWide = 100;
    std::mt19937 rng(5);
    std::normal_distribution<float> normal;
    std::vector<float> base(kWide);
    for (float& x : base) x = normal(rng);
    FlatVectorIndex index(kWide);
    std::vector<std::string> ids;
    for (int i = 0; i < 3000; ++i) {
        std::vector<float> v = base;
        for (float& x : v) x += 3e-4f * normal(rng);
        if (i % 500 == 0) v = base;  // exact duplicates: ties broken by id
        ids.push_back("r" + std::to_string(i));
        ASSERT_TRUE(
            index.upsert(UnitAttrs{"c", UnitType::kTurn, ids.back(), i, i % 2 ? "user" : "assistant", ""}, v).is_ok());
    }
    for (int trial = 0; trial < 4; ++trial) {
        std::vector<float> q = base;
        for (float& x : q) x += (trial == 0 ? 0.0f : 1e-2f) * normal(rng);
        for (bool by_role : {false, true}) {
            SearchFilter f;
            f.cube_id = "c";
            if (by_role) f.role = "user";
            auto sims = index.similarities(q, "c", UnitType::kTurn, ids);
            ASSERT_TRUE(sims.is_ok());
            std::vector<std::pair<double, std::string>> want;
            for (std::size_t i = 0; i < ids.size(); ++i) {
                if (by_role && i % 2 == 0) continue;
                want.emplace_back(*(*sims)[i], ids[i]);
            }
            std::sort(want.begin(), want.end(), [](const auto& a, const auto& b) {
                return a.first != b.first ? a.first > b.first : a.second < b.second;
            });
            for (int k : {1, 10, 100}) {
                auto hits = index.search(q, f, k);
                ASSERT_TRUE(hits.is_ok());
                ASSERT_EQ(hits->size(), static_cast<std::size_t>(k));
                for (int i = 0; i < k; ++i) {
                    EXPECT_EQ((*hits)[i].id, want[i].second) << "trial " << trial << " k " << k << " rank " << i;
                    EXPECT_EQ((*hits)[i].score, want[i].first);
                }
            }
        }
    }
}

}  // namespace
}  // namespace kasten::retrieval
