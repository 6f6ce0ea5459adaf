#include "memory/aspect_coverage.h"

#include <cmath>

#include <gtest/gtest.h>

#include "llm/hashing_embedder.h"
#include "memory/memory_manager.h"

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

TEST(QueryAspectsTest, WordsFramingTheAnswerAreNoAspects) {
    // "How many days passed between my visit to the MoMA and the exhibit": the stems of how-many-days framing drop.
    const auto a = query_aspects({"mani", "day", "pass", "visit", "moma", "exhibit"}, {3, 9, 2, 4, 1, 5}, 100);
    ASSERT_EQ(a.size(), 3u);
    EXPECT_EQ(a[0].term, "visit");
    EXPECT_EQ(a[1].term, "moma");
    EXPECT_EQ(a[2].term, "exhibit");
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

TEST(UncoveredQueryTextTest, TheWordsOfTheAspectsTheTopLeftOut) {
    const std::string q = "How many days passed between my visit to the MoMA and the Ancient Civilizations exhibit?";
    const std::vector<QueryAspect> aspects = {{"visit", 0.2}, {"moma", 0.3}, {"ancient", 0.2}, {"exhibit", 0.3}};
    EXPECT_EQ(uncovered_query_text(q, aspects, {{"moma", "visit"}, {"moma", "garden"}}), "Ancient exhibit");
    EXPECT_EQ(uncovered_query_text(q, aspects, {{"moma"}, {"exhibit", "ancient"}}), "visit");
}

TEST(UncoveredQueryTextTest, EmptyWhenAllOrNothingIsCovered) {
    const std::vector<QueryAspect> aspects = {{"moma", 0.5}, {"exhibit", 0.5}};
    EXPECT_EQ(uncovered_query_text("the MoMA and the exhibit", aspects, {{"moma"}, {"exhibit"}}), "");
    EXPECT_EQ(uncovered_query_text("the MoMA and the exhibit", aspects, {{"museum"}}), "");
    EXPECT_EQ(uncovered_query_text("the MoMA and the exhibit", aspects, {}), "");
}

// End to end through MemoryManager::search (MemoryOptions::aspect_weight), lexical retriever, one turn per session
// (no neighbours to lend).
class AspectCoverageSearchTest : public ::testing::Test {
  protected:
    void open(double aspect_weight) {
        MemoryOptions o;
        o.embedder = std::make_shared<llm::HashingEmbedder>(256);
        o.clock = &clock_;
        o.in_memory = true;
        o.background_jobs = false;
        o.aspect_weight = aspect_weight;
        auto r = MemoryManager::open(o);
        ASSERT_TRUE(r.is_ok()) << r.status().to_string();
        mm_ = std::move(r).value();
        const std::vector<std::string> texts = {
            "The day we visited the MoMA was long, the MoMA is huge",
            "Another day at the MoMA: I visited the MoMA sculpture garden",
            "I visited the MoMA again the next day for the MoMA film series",
            "That exhibit was so crowded that we barely saw anything in the rooms or the halls at all",
            "My sister cooked pasta for dinner",
            "The car needs new tyres before winter",
            "I started reading a novel about sailors",
            "Our neighbour adopted a beagle puppy",
        };
        for (std::size_t i = 0; i < texts.size(); ++i) {
            AddMessagesRequest req;
            req.cube_id = "u";
            req.session_id = "s" + std::to_string(i);
            req.time = 1690000000000;
            req.messages.push_back({"user", texts[i], std::nullopt});
            auto a = mm_->add_messages(req);
            ASSERT_TRUE(a.is_ok()) << a.status().to_string();
        }
    }

    // The 0-based rank of the exhibit turn at `g` granularity.
    std::size_t exhibit_rank(Granularity g) {
        SearchRequest req;
        req.cube_id = "u";
        req.query = "How many days passed between my visit to the MoMA and the Ancient Civilizations exhibit?";
        req.granularity = g;
        req.retriever = Retriever::kLexical;
        req.top_k = 10;
        auto hits = mm_->search(req);
        EXPECT_TRUE(hits.is_ok()) << hits.status().to_string();
        if (!hits.is_ok()) return 99;
        for (std::size_t i = 0; i < hits->size(); ++i) {
            if ((*hits)[i].text.find("exhibit") != std::string::npos) return i;
        }
        return 99;
    }

    FakeClock clock_{1700000000000};
    std::unique_ptr<MemoryManager> mm_;
};

TEST_F(AspectCoverageSearchTest, TheSecondPartOfTheQuestionReachesTheTop) {
    open(0);
    const std::size_t turn_before = exhibit_rank(Granularity::kTurn);
    const std::size_t session_before = exhibit_rank(Granularity::kSession);
    EXPECT_EQ(turn_before, 3u);  // below the three MoMA turns
    EXPECT_EQ(session_before, 3u);
    open(1.0);
    EXPECT_EQ(exhibit_rank(Granularity::kTurn), 1u);  // right after the best MoMA turn
    EXPECT_EQ(exhibit_rank(Granularity::kSession), 1u);
}

}  // namespace
}  // namespace kasten::memory
