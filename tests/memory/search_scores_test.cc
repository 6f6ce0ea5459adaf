// Search scores as users read them: calibrated to [0, 1] (ScoreCalibrator), ranked by the fused score, filtered by
// min_score.

#include <gtest/gtest.h>

#include "llm/hashing_embedder.h"
#include "memory/memory_manager.h"
#include "memory/score_calibrator.h"

namespace kasten::memory {
namespace {

constexpr const char* kUnrelated = "quantum chromodynamics lattice gauge theory";

class SearchScoresTest : public ::testing::Test {
  protected:
    void SetUp() override {
        MemoryOptions o;
        o.embedder = std::make_shared<llm::HashingEmbedder>(256);
        o.clock = &clock_;
        o.in_memory = true;
        auto r = MemoryManager::open(o);
        ASSERT_TRUE(r.is_ok()) << r.status().to_string();
        mm_ = std::move(r).value();
        const std::vector<std::vector<std::string>> sessions = {
            {"I adopted a beagle puppy named Biscuit last week", "Biscuit chewed my favourite sneakers"},
            {"My sister lives in Lisbon and works as an architect", "She designs libraries and museums"},
            {"We are planning a trip to Japan in April to see the cherry blossoms", "We will visit Kyoto and Osaka"},
            {"I started training for a half marathon, running three times a week", "My knees hurt after long runs"},
            {"The car needs new tires before winter", "The garage can fit the car in on Tuesday"},
        };
        for (size_t i = 0; i < sessions.size(); ++i) {
            AddMessagesRequest req;
            req.cube_id = "u";
            req.session_id = "s" + std::to_string(i + 1);
            req.time = 1690000000000 + static_cast<TimeMs>(i) * 86400000;
            for (const auto& text : sessions[i]) {
                req.messages.push_back({"user", text, std::nullopt});
                req.messages.push_back({"assistant", "That sounds good, tell me more about it.", std::nullopt});
            }
            ASSERT_TRUE(mm_->add_messages(req).is_ok());
        }
        for (const char* content : {"The user's dog is a beagle called Biscuit", "The user's sister is an architect",
                                    "The user is training for a half marathon"}) {
            NoteInput in;
            in.content = content;
            ASSERT_TRUE(mm_->add_note("u", in, "test").is_ok());
        }
    }

    std::vector<SearchHit> search(const std::string& query, Granularity g, Retriever r, std::optional<double> min_score,
                                  int top_k = 50) {
        SearchRequest req;
        req.cube_id = "u";
        req.query = query;
        req.granularity = g;
        req.retriever = r;
        req.top_k = top_k;
        req.min_score = min_score;
        auto hits = mm_->search(req);
        EXPECT_TRUE(hits.is_ok()) << hits.status().to_string();
        return hits.is_ok() ? *hits : std::vector<SearchHit>{};
    }

    static std::vector<std::string> ids(const std::vector<SearchHit>& hits) {
        std::vector<std::string> out;
        for (const auto& h : hits) out.push_back(h.id);
        return out;
    }

    FakeClock clock_{1700000000000};
    std::unique_ptr<MemoryManager> mm_;
};

const Granularity kGranularities[] = {Granularity::kTurn, Granularity::kSession, Granularity::kNote};
const Retriever kRetrievers[] = {Retriever::kLexical, Retriever::kVector, Retriever::kHybrid};

TEST_F(SearchScoresTest, ScoresLieInTheUnitIntervalAndHitsStayInFusedOrder) {
    for (Granularity g : kGranularities) {
        for (Retriever r : kRetrievers) {
            for (const char* q : {"beagle puppy Biscuit", "where does my sister live", "marathon running knees",
                                  "trip to Japan", kUnrelated}) {
                const auto hits = search(q, g, r, std::nullopt);
                for (size_t i = 0; i < hits.size(); ++i) {
                    SCOPED_TRACE(std::string(granularity_name(g)) + " " + retriever_name(r) + " '" + q + "' #" +
                                 std::to_string(i));
                    EXPECT_GE(hits[i].score, 0.0);
                    EXPECT_LE(hits[i].score, 1.0);
                    // The order is the fused ranking's (notes: times their retention), not the calibrated score's.
                    if (i > 0) EXPECT_GE(hits[i - 1].rank_score, hits[i].rank_score);
                }
            }
        }
    }
}

TEST_F(SearchScoresTest, ATurnThatContainsTheWholeQueryScoresHigh) {
    const auto hits = search("beagle puppy Biscuit", Granularity::kTurn, Retriever::kLexical, kDefaultMinScore);
    ASSERT_FALSE(hits.empty());
    EXPECT_EQ(hits[0].text, "I adopted a beagle puppy named Biscuit last week");
    EXPECT_DOUBLE_EQ(hits[0].score, 1.0);  // every query term is in it
    // The other Biscuit turn shares the rarest-but-one term only: partial evidence.
    ASSERT_GE(hits.size(), 2u);
    EXPECT_EQ(hits[1].text, "Biscuit chewed my favourite sneakers");
    EXPECT_GT(hits[1].score, 0.0);
    EXPECT_LT(hits[1].score, 0.6);
}

TEST_F(SearchScoresTest, AQueryUnrelatedToTheCubeFindsNothingByDefault) {
    for (Granularity g : kGranularities) {
        for (Retriever r : kRetrievers) {
            SCOPED_TRACE(std::string(granularity_name(g)) + " " + retriever_name(r));
            EXPECT_TRUE(search(kUnrelated, g, r, kDefaultMinScore).empty());
            EXPECT_TRUE(search("how do I bake sourdough bread", g, r, kDefaultMinScore).empty());
        }
    }
    // Without a threshold the vector lists still rank every unit (the full ranking evaluations read): the filter,
    // not the candidate lists, is what leaves the unrelated query empty.
    const auto all = search(kUnrelated, Granularity::kTurn, Retriever::kHybrid, std::nullopt);
    ASSERT_FALSE(all.empty());
    for (const auto& h : all) EXPECT_LT(h.score, kDefaultMinScore) << h.text;
}

TEST_F(SearchScoresTest, MinScoreKeepsTheRankingAndDropsWeakAndZeroScoreHits) {
    for (Granularity g : kGranularities) {
        for (Retriever r : kRetrievers) {
            for (const char* q : {"beagle sister marathon", "my car tires", "cherry blossoms in Kyoto"}) {
                SCOPED_TRACE(std::string(granularity_name(g)) + " " + retriever_name(r) + " '" + q + "'");
                const auto full = search(q, g, r, std::nullopt);
                for (double min_score : {0.0, kDefaultMinScore, 0.3, 0.6}) {
                    std::vector<std::string> expected;
                    for (const auto& h : full) {
                        if (min_score == 0 || (h.score > 0 && h.score >= min_score)) expected.push_back(h.id);
                    }
                    const auto kept = search(q, g, r, min_score);
                    EXPECT_EQ(ids(kept), expected) << "min_score " << min_score;
                    for (const auto& h : kept) {
                        if (min_score == 0) continue;  // 0: the full ranking
                        EXPECT_GT(h.score, 0.0);
                        EXPECT_GE(h.score, min_score);
                    }
                    // top_k counts listed hits: the best two that pass, in ranking order.
                    const auto two = search(q, g, r, min_score, 2);
                    expected.resize(std::min<size_t>(expected.size(), 2));
                    EXPECT_EQ(ids(two), expected) << "min_score " << min_score << ", top_k 2";
                }
            }
        }
    }
}

TEST_F(SearchScoresTest, ATurnFoundThroughItsNoteScoresByItsBestKey) {
    NoteInput in;
    in.content = "The user owns a Subaru";
    const auto turns = search("car tires winter", Granularity::kTurn, Retriever::kLexical, kDefaultMinScore);
    ASSERT_FALSE(turns.empty());
    in.source_turn_ids = {turns[0].id};
    ASSERT_TRUE(mm_->add_note("u", in, "test").is_ok());
    // The turn says nothing about a Subaru; its note does, and credits it.
    const auto found = search("Subaru", Granularity::kTurn, Retriever::kLexical, kDefaultMinScore);
    ASSERT_EQ(found.size(), 1u);
    EXPECT_EQ(found[0].id, turns[0].id);
    EXPECT_DOUBLE_EQ(found[0].score, 1.0);
    SearchRequest bare;
    bare.cube_id = "u";
    bare.query = "Subaru";
    bare.retriever = Retriever::kLexical;
    bare.note_keys = false;
    bare.min_score = kDefaultMinScore;
    EXPECT_TRUE(mm_->search(bare).value().empty());
}

// Every turn and session search of the fixture's cube, hit by hit.
std::vector<std::vector<SearchHit>> turn_and_session_searches(MemoryManager& mm) {
    std::vector<std::vector<SearchHit>> out;
    for (const char* query : {"beagle puppy Biscuit", "sister architect Lisbon", "half marathon running knees",
                              "trip to Japan cherry blossoms", "car tires garage"}) {
        for (Granularity g : {Granularity::kTurn, Granularity::kSession}) {
            for (Retriever r : {Retriever::kLexical, Retriever::kHybrid}) {
                SearchRequest req;
                req.cube_id = "u";
                req.query = query;
                req.granularity = g;
                req.retriever = r;
                req.top_k = 50;
                req.min_score = 0;
                auto hits = mm.search(req);
                EXPECT_TRUE(hits.is_ok()) << hits.status().to_string();
                out.push_back(hits.is_ok() ? *hits : std::vector<SearchHit>{});
            }
        }
    }
    return out;
}

// Notes have their own lexical statistics: adding them leaves every turn and session score bit-for-bit unchanged
// (the fused ranking score and the calibrated score alike).
TEST_F(SearchScoresTest, NotesLeaveTurnAndSessionScoresBitIdentical) {
    const auto before = turn_and_session_searches(*mm_);
    for (int i = 0; i < 30; ++i) {
        NoteInput in;
        in.content = i % 3 == 0   ? "The user's beagle Biscuit loves the beagle park; Biscuit is a puppy"
                     : i % 3 == 1 ? "The user runs a half marathon and the user's sister is an architect in Lisbon"
                                  : "The user's car got new tires; Japan trip in April for cherry blossoms";
        in.content += " (" + std::to_string(i) + ")";
        ASSERT_TRUE(mm_->add_note("u", in, "test").is_ok());
    }
    const auto after = turn_and_session_searches(*mm_);
    ASSERT_EQ(before.size(), after.size());
    std::size_t compared = 0;
    for (std::size_t i = 0; i < before.size(); ++i) {
        ASSERT_EQ(ids(before[i]), ids(after[i])) << "search " << i;
        for (std::size_t j = 0; j < before[i].size(); ++j) {
            EXPECT_EQ(before[i][j].score, after[i][j].score) << "search " << i << " hit " << j;  // exact
            EXPECT_EQ(before[i][j].rank_score, after[i][j].rank_score) << "search " << i << " hit " << j;
            EXPECT_EQ(before[i][j].lexical_rank, after[i][j].lexical_rank) << "search " << i << " hit " << j;
            ++compared;
        }
    }
    EXPECT_GT(compared, 50u);
}

}  // namespace
}  // namespace kasten::memory
