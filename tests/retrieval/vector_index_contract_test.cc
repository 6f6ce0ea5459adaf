// The VectorIndex contract (retrieval/vector_index.h), run against every implementation.
// To test a new implementation, add it to kImplementations below (it must be constructible from `int dim`).

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <limits>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <thread>

#include "retrieval/flat_vector_index.h"
#include "retrieval/vector_index.h"
#include "tests/retrieval/search_helpers.h"

namespace kasten::retrieval {
namespace {

using kImplementations = ::testing::Types<FlatVectorIndex>;

constexpr int kDim = 16;

UnitAttrs attrs(std::string cube, std::string id, TimeMs time = 0, std::string role = "", std::string session = "",
                UnitType type = UnitType::kTurn) {
    return UnitAttrs{std::move(cube), type, std::move(id), time, std::move(role), std::move(session)};
}

using test_support::ids_of;
using test_support::in_cube;

// A unit vector along axis `i`, plus `noise` on axis (i + 1) % kDim.
std::vector<float> axis(int i, float noise = 0) {
    std::vector<float> v(kDim, 0.0f);
    v[static_cast<std::size_t>(i % kDim)] = 1.0f;
    v[static_cast<std::size_t>((i + 1) % kDim)] += noise;
    return v;
}

double cosine(const std::vector<float>& a, const std::vector<float>& b) {
    double dot = 0, na = 0, nb = 0;
    for (std::size_t i = 0; i < a.size(); ++i) {
        dot += static_cast<double>(a[i]) * b[i];
        na += static_cast<double>(a[i]) * a[i];
        nb += static_cast<double>(b[i]) * b[i];
    }
    return na == 0 || nb == 0 ? 0.0 : dot / std::sqrt(na * nb);
}

template <typename T>
class VectorIndexContractTest : public ::testing::Test {
  protected:
    VectorIndexContractTest() : index_(std::make_unique<T>(kDim)) {}

    std::vector<float> random_vector() {
        std::normal_distribution<float> normal;
        std::vector<float> v(kDim);
        for (auto& x : v) x = normal(rng_);
        return v;
    }

    void put(const UnitAttrs& a, const std::vector<float>& v) { ASSERT_TRUE(index_->upsert(a, v).is_ok()) << a.id; }

    std::vector<ScoredId> search(const std::vector<float>& q, const SearchFilter& f, int k) {
        auto r = index_->search(q, f, k);
        EXPECT_TRUE(r.is_ok()) << r.status().to_string();
        return r.is_ok() ? r.value() : std::vector<ScoredId>{};
    }

    std::unique_ptr<VectorIndex> index_;
    std::mt19937 rng_{42};
};

TYPED_TEST_SUITE(VectorIndexContractTest, kImplementations);

TYPED_TEST(VectorIndexContractTest, DimIsReported) {
    EXPECT_EQ(this->index_->dim(), kDim);
}

TYPED_TEST(VectorIndexContractTest, EmptyIndexReturnsNothing) {
    auto hits = this->search(this->random_vector(), in_cube("c"), 10);
    EXPECT_TRUE(hits.empty());
    EXPECT_EQ(this->index_->size("c", UnitType::kTurn), 0u);
    EXPECT_TRUE(this->index_->ids("c", UnitType::kTurn).empty());
}

// Exact search: same top-k as brute-force cosine, with and without filters.
TYPED_TEST(VectorIndexContractTest, ExactResultsEqualBruteForce) {
    struct Row {
        UnitAttrs a;
        std::vector<float> v;
    };
    std::vector<Row> rows;
    std::uniform_int_distribution<int> pick(0, 3);
    for (int i = 0; i < 1500; ++i) {
        Row r{attrs("c", "t" + std::to_string(i), 1000 + i, pick(this->rng_) == 0 ? "assistant" : "user",
                    "s" + std::to_string(pick(this->rng_))),
              this->random_vector()};
        this->put(r.a, r.v);
        rows.push_back(std::move(r));
    }
    for (int trial = 0; trial < 8; ++trial) {
        std::vector<float> q = this->random_vector();
        SearchFilter f = in_cube("c");
        if (trial % 2 == 1) {
            f.time_from = 1200;
            f.time_to = 2000;
        }
        if (trial % 4 == 3) f.role = "user";
        if (trial >= 6) f.session_id = "s2";
        const int k = 5 + trial * 7;

        std::vector<std::pair<double, std::string>> expected;
        for (const auto& r : rows) {
            if (f.time_from && r.a.time < *f.time_from) continue;
            if (f.time_to && r.a.time > *f.time_to) continue;
            if (f.role && r.a.role != *f.role) continue;
            if (f.session_id && r.a.session_id != *f.session_id) continue;
            expected.emplace_back(cosine(q, r.v), r.a.id);
        }
        std::sort(expected.begin(), expected.end(), [](const auto& a, const auto& b) {
            return a.first != b.first ? a.first > b.first : a.second < b.second;
        });
        auto hits = this->search(q, f, k);
        ASSERT_EQ(hits.size(), std::min<std::size_t>(k, expected.size())) << "trial " << trial;
        std::map<std::string, double> truth;
        for (const auto& [s, id] : expected) truth[id] = s;
        for (std::size_t i = 0; i < hits.size(); ++i) {
            ASSERT_TRUE(truth.count(hits[i].id)) << hits[i].id << " does not pass the filter";
            EXPECT_NEAR(hits[i].score, truth[hits[i].id], 1e-5);
            EXPECT_NEAR(hits[i].score, expected[i].first, 1e-5) << "rank " << i;  // nothing better was missed
            if (i > 0) {
                EXPECT_GE(hits[i - 1].score, hits[i].score);
            }
        }
    }
}

TYPED_TEST(VectorIndexContractTest, CubeIsolation) {
    for (int i = 0; i < kDim; ++i) {  // distinct directions
        this->put(attrs("alice", "a" + std::to_string(i)), axis(i));
        this->put(attrs("bob", "b" + std::to_string(i)), axis(i));
        this->put(attrs("shared", "x" + std::to_string(i)), axis(i));
        this->put(attrs("shared2", "x" + std::to_string(i)), axis(i));
    }
    for (const std::string cube : {"alice", "bob"}) {
        auto hits = this->search(axis(3), in_cube(cube), 100);
        ASSERT_EQ(hits.size(), static_cast<std::size_t>(kDim));
        for (const auto& h : hits) EXPECT_EQ(h.id[0], cube[0]) << h.id << " leaked into " << cube;
    }
    EXPECT_TRUE(this->search(axis(3), in_cube("carol"), 100).empty());
    // The same id in two cubes: two independent units.
    ASSERT_TRUE(this->index_->remove("shared", UnitType::kTurn, "x3").is_ok());
    EXPECT_EQ(this->index_->size("shared", UnitType::kTurn), kDim - 1u);
    EXPECT_EQ(this->index_->size("shared2", UnitType::kTurn), static_cast<std::uint64_t>(kDim));
    EXPECT_EQ(this->search(axis(3), in_cube("shared2"), 1).at(0).id, "x3");
    EXPECT_NE(this->search(axis(3), in_cube("shared"), 1).at(0).id, "x3");
}

TYPED_TEST(VectorIndexContractTest, TypeIsolation) {
    this->put(attrs("c", "turn1", 0, "", "", UnitType::kTurn), axis(0));
    this->put(attrs("c", "sess1", 0, "", "", UnitType::kSession), axis(0));
    this->put(attrs("c", "note1", 0, "", "", UnitType::kNote), axis(0));
    this->put(attrs("c", "note2", 0, "", "", UnitType::kNote), axis(1));
    EXPECT_EQ(ids_of(this->search(axis(0), in_cube("c", UnitType::kTurn), 10)), std::vector<std::string>{"turn1"});
    EXPECT_EQ(ids_of(this->search(axis(0), in_cube("c", UnitType::kSession), 10)), std::vector<std::string>{"sess1"});
    EXPECT_EQ(ids_of(this->search(axis(0), in_cube("c", UnitType::kNote), 10)),
              (std::vector<std::string>{"note1", "note2"}));
    EXPECT_EQ(this->index_->size("c", UnitType::kNote), 2u);
    EXPECT_EQ(this->index_->ids("c", UnitType::kNote), (std::vector<std::string>{"note1", "note2"}));
}

TYPED_TEST(VectorIndexContractTest, TimeRangeFilterIsInclusive) {
    for (int i = 0; i < 10; ++i) this->put(attrs("c", "t" + std::to_string(i), 100 * i), axis(0, 0.1f * i));
    SearchFilter f = in_cube("c");
    f.time_from = 300;
    f.time_to = 500;
    auto hits = this->search(axis(0), f, 10);
    EXPECT_EQ(ids_of(hits), (std::vector<std::string>{"t3", "t4", "t5"}));
    f.time_from.reset();
    EXPECT_EQ(this->search(axis(0), f, 10).size(), 6u);
    f.time_to.reset();
    f.time_from = 900;
    EXPECT_EQ(ids_of(this->search(axis(0), f, 10)), std::vector<std::string>{"t9"});
    f.time_from = 901;
    EXPECT_TRUE(this->search(axis(0), f, 10).empty());
    f.time_from = 500;
    f.time_to = 400;  // empty range
    EXPECT_TRUE(this->search(axis(0), f, 10).empty());
}

TYPED_TEST(VectorIndexContractTest, RoleAndSessionFilters) {
    this->put(attrs("c", "u1", 1, "user", "s1"), axis(0));
    this->put(attrs("c", "a1", 2, "assistant", "s1"), axis(0, 0.1f));
    this->put(attrs("c", "u2", 3, "user", "s2"), axis(0, 0.2f));
    this->put(attrs("c", "a2", 4, "assistant", "s2"), axis(0, 0.3f));
    SearchFilter f = in_cube("c");
    f.role = "user";
    EXPECT_EQ(ids_of(this->search(axis(0), f, 10)), (std::vector<std::string>{"u1", "u2"}));
    f.session_id = "s2";
    EXPECT_EQ(ids_of(this->search(axis(0), f, 10)), std::vector<std::string>{"u2"});
    f.role.reset();
    EXPECT_EQ(ids_of(this->search(axis(0), f, 10)), (std::vector<std::string>{"u2", "a2"}));
    f.role = "system";  // no unit has it
    EXPECT_TRUE(this->search(axis(0), f, 10).empty());
    f.role.reset();
    f.session_id = "s9";
    EXPECT_TRUE(this->search(axis(0), f, 10).empty());
}

TYPED_TEST(VectorIndexContractTest, FilterKeepsTopKAmongPassingUnits) {
    // The best units all fail the filter; k passing ones must still come back.
    for (int i = 0; i < 50; ++i) this->put(attrs("c", "bad" + std::to_string(i), 0, "assistant"), axis(0));
    for (int i = 0; i < 5; ++i) this->put(attrs("c", "good" + std::to_string(i), 0, "user"), axis(0, 1.0f + i));
    SearchFilter f = in_cube("c");
    f.role = "user";
    EXPECT_EQ(ids_of(this->search(axis(0), f, 3)), (std::vector<std::string>{"good0", "good1", "good2"}));
}

TYPED_TEST(VectorIndexContractTest, RemoveKeepsOthersIntact) {
    for (int i = 0; i < 10; ++i) this->put(attrs("c", "t" + std::to_string(i), i, "user", "s"), axis(i));
    ASSERT_TRUE(this->index_->remove("c", UnitType::kTurn, "t2").is_ok());
    ASSERT_TRUE(this->index_->remove("c", UnitType::kTurn, "t0").is_ok());
    ASSERT_TRUE(this->index_->remove("c", UnitType::kTurn, "t9").is_ok());
    ASSERT_TRUE(this->index_->remove("c", UnitType::kTurn, "missing").is_ok());
    ASSERT_TRUE(this->index_->remove("nocube", UnitType::kTurn, "t1").is_ok());
    EXPECT_EQ(this->index_->size("c", UnitType::kTurn), 7u);
    EXPECT_EQ(this->index_->ids("c", UnitType::kTurn),
              (std::vector<std::string>{"t1", "t3", "t4", "t5", "t6", "t7", "t8"}));
    for (int i : {1, 3, 4, 5, 6, 7, 8}) {
        auto hits = this->search(axis(i), in_cube("c"), 1);
        ASSERT_EQ(hits.size(), 1u);
        EXPECT_EQ(hits[0].id, "t" + std::to_string(i));
        EXPECT_NEAR(hits[0].score, 1.0, 1e-6);
        // Attributes moved with their rows.
        SearchFilter f = in_cube("c");
        f.time_from = i;
        f.time_to = i;
        EXPECT_EQ(ids_of(this->search(axis(0), f, 5)), std::vector<std::string>{"t" + std::to_string(i)});
    }
    for (int i : {0, 2, 9}) EXPECT_NE(this->search(axis(i), in_cube("c"), 1).at(0).id, "t" + std::to_string(i));
    // Removing everything, then adding again.
    for (const auto& id : this->index_->ids("c", UnitType::kTurn)) {
        ASSERT_TRUE(this->index_->remove("c", UnitType::kTurn, id).is_ok());
    }
    EXPECT_EQ(this->index_->size("c", UnitType::kTurn), 0u);
    EXPECT_TRUE(this->search(axis(1), in_cube("c"), 5).empty());
    this->put(attrs("c", "again"), axis(1));
    EXPECT_EQ(ids_of(this->search(axis(1), in_cube("c"), 5)), std::vector<std::string>{"again"});
}

TYPED_TEST(VectorIndexContractTest, RemoveCube) {
    for (UnitType t : {UnitType::kTurn, UnitType::kSession, UnitType::kNote}) {
        this->put(attrs("gone", "x", 0, "", "", t), axis(0));
        this->put(attrs("kept", "x", 0, "", "", t), axis(0));
    }
    ASSERT_TRUE(this->index_->remove_cube("gone").is_ok());
    ASSERT_TRUE(this->index_->remove_cube("never-existed").is_ok());
    for (UnitType t : {UnitType::kTurn, UnitType::kSession, UnitType::kNote}) {
        EXPECT_EQ(this->index_->size("gone", t), 0u);
        EXPECT_TRUE(this->search(axis(0), in_cube("gone", t), 5).empty());
        EXPECT_EQ(ids_of(this->search(axis(0), in_cube("kept", t), 5)), std::vector<std::string>{"x"});
    }
}

TYPED_TEST(VectorIndexContractTest, UpsertReplacesVectorAndAttributes) {
    this->put(attrs("c", "x", 100, "user", "s1"), axis(0));
    this->put(attrs("c", "y", 100, "user", "s1"), axis(1));
    this->put(attrs("c", "x", 200, "assistant", "s2"), axis(2));
    EXPECT_EQ(this->index_->size("c", UnitType::kTurn), 2u);
    EXPECT_EQ(this->search(axis(2), in_cube("c"), 1).at(0).id, "x");
    EXPECT_NE(this->search(axis(0), in_cube("c"), 1).at(0).score, 1.0);
    SearchFilter f = in_cube("c");
    f.role = "assistant";
    f.session_id = "s2";
    f.time_from = 200;
    EXPECT_EQ(ids_of(this->search(axis(2), f, 5)), std::vector<std::string>{"x"});
    f.role = "user";
    f.session_id.reset();
    f.time_from.reset();
    EXPECT_EQ(ids_of(this->search(axis(2), f, 5)), std::vector<std::string>{"y"});
}

TYPED_TEST(VectorIndexContractTest, RejectsBadInput) {
    std::vector<float> short_vec(kDim - 1, 1.0f);
    std::vector<float> long_vec(kDim + 1, 1.0f);
    EXPECT_EQ(this->index_->upsert(attrs("c", "x"), short_vec).code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(this->index_->upsert(attrs("c", "x"), long_vec).code(), StatusCode::kInvalidArgument);
    std::vector<float> nan_vec = axis(0);
    nan_vec[3] = std::numeric_limits<float>::quiet_NaN();
    EXPECT_EQ(this->index_->upsert(attrs("c", "x"), nan_vec).code(), StatusCode::kInvalidArgument);
    std::vector<float> inf_vec = axis(0);
    inf_vec[3] = std::numeric_limits<float>::infinity();
    EXPECT_EQ(this->index_->upsert(attrs("c", "x"), inf_vec).code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(this->index_->upsert(attrs("", "x"), axis(0)).code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(this->index_->upsert(attrs("c", ""), axis(0)).code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(this->index_->size("c", UnitType::kTurn), 0u);

    this->put(attrs("c", "x"), axis(0));
    EXPECT_EQ(this->index_->search(short_vec, in_cube("c"), 5).status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(this->index_->search(nan_vec, in_cube("c"), 5).status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(this->index_->search(axis(0), in_cube(""), 5).status().code(), StatusCode::kInvalidArgument);
}

TYPED_TEST(VectorIndexContractTest, KLargerThanSizeAndNonPositiveK) {
    for (int i = 0; i < 3; ++i) this->put(attrs("c", "t" + std::to_string(i)), axis(i));
    EXPECT_EQ(this->search(axis(0), in_cube("c"), 1000).size(), 3u);
    EXPECT_TRUE(this->search(axis(0), in_cube("c"), 0).empty());
    EXPECT_TRUE(this->search(axis(0), in_cube("c"), -5).empty());
}

TYPED_TEST(VectorIndexContractTest, NormalisesAndHandlesZeroVectors) {
    std::vector<float> scaled = axis(0, 1.0f);
    for (auto& x : scaled) x *= 1000.0f;
    this->put(attrs("c", "scaled"), scaled);
    this->put(attrs("c", "zero"), std::vector<float>(kDim, 0.0f));
    auto hits = this->search(axis(0), in_cube("c"), 5);
    ASSERT_EQ(hits.size(), 2u);
    EXPECT_EQ(hits[0].id, "scaled");
    EXPECT_NEAR(hits[0].score, 1.0 / std::sqrt(2.0), 1e-6);
    EXPECT_EQ(hits[1].id, "zero");
    EXPECT_EQ(hits[1].score, 0.0);
    // A zero query scores 0 everywhere; ties go by id.
    auto zero_hits = this->search(std::vector<float>(kDim, 0.0f), in_cube("c"), 5);
    EXPECT_EQ(ids_of(zero_hits), (std::vector<std::string>{"scaled", "zero"}));
    for (const auto& h : zero_hits) EXPECT_EQ(h.score, 0.0);
    // Opposite direction scores -1.
    std::vector<float> neg = axis(5);
    neg[5] = -3.0f;
    this->put(attrs("c", "neg"), neg);
    auto all = this->search(axis(5), in_cube("c"), 5);
    ASSERT_EQ(all.size(), 3u);
    EXPECT_EQ(all.back().id, "neg");
    EXPECT_NEAR(all.back().score, -1.0, 1e-6);
}

TYPED_TEST(VectorIndexContractTest, TiesBrokenById) {
    for (const char* id : {"m", "c", "x", "a", "q"}) this->put(attrs("c", id), axis(4));
    EXPECT_EQ(ids_of(this->search(axis(4), in_cube("c"), 3)), (std::vector<std::string>{"a", "c", "m"}));
    EXPECT_EQ(ids_of(this->search(axis(4), in_cube("c"), 10)), (std::vector<std::string>{"a", "c", "m", "q", "x"}));
}

TYPED_TEST(VectorIndexContractTest, ConcurrentReadersWithOneWriter) {
    for (int i = 0; i < 200; ++i) this->put(attrs("c", "base" + std::to_string(i)), this->random_vector());
    std::vector<std::vector<float>> queries;
    for (int i = 0; i < 4; ++i) queries.push_back(this->random_vector());
    std::atomic<bool> stop{false};
    std::atomic<int> failures{0};
    std::atomic<int> started{0};
    std::vector<std::thread> readers;
    for (int t = 0; t < 3; ++t) {
        readers.emplace_back([&, t] {
            bool first = true;
            while (!stop.load()) {
                auto r = this->index_->search(queries[static_cast<std::size_t>(t)], in_cube("c"), 10);
                if (first) started.fetch_add(1);
                first = false;
                if (!r.is_ok() || r->size() != 10u) failures.fetch_add(1);
                for (std::size_t i = 1; r.is_ok() && i < r->size(); ++i) {
                    if ((*r)[i - 1].score < (*r)[i].score) failures.fetch_add(1);
                }
            }
        });
    }
    while (started.load() < 3) std::this_thread::yield();
    // Writes make progress while readers keep searching (writers are not starved).
    std::vector<float> v(kDim, 0.5f);
    for (int i = 0; i < 2000; ++i) {
        v[static_cast<std::size_t>(i % kDim)] = static_cast<float>(i % 7);
        ASSERT_TRUE(this->index_->upsert(attrs("c", "w" + std::to_string(i % 300)), v).is_ok());
        if (i % 3 == 0) {
            ASSERT_TRUE(this->index_->remove("c", UnitType::kTurn, "w" + std::to_string(i % 250)).is_ok());
        }
    }
    stop.store(true);
    for (auto& r : readers) r.join();
    EXPECT_EQ(failures.load(), 0);
    EXPECT_GE(this->index_->size("c", UnitType::kTurn), 200u);
}

}  // namespace
}  // namespace kasten::retrieval
