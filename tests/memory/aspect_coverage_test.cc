#include "memory/aspect_coverage.h"

#include <cmath>

#include <gtest/gtest.h>

#include "llm/hashing_embedder.h"
#include "memory/memory_manager.h"

namespace kasten::memory {
namespace {

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

// End to end through MemoryManager::search (MemoryOptions::second_hop_weight), lexical retriever, one turn per
// session (no neighbours to lend).
class SecondHopSearchTest : public ::testing::Test {
  protected:
    void open(double second_hop_weight) {
        MemoryOptions o;
        o.embedder = std::make_shared<llm::HashingEmbedder>(256);
        o.clock = &clock_;
        o.in_memory = true;
        o.background_jobs = false;
        o.second_hop_weight = second_hop_weight;
        auto r = MemoryManager::open(o);
        ASSERT_TRUE(r.is_ok()) << r.status().to_string();
        mm_ = std::move(r).value();
        const std::vector<std::string> texts = {
            "The day we visited the MoMA was long, the MoMA is huge",
            "Another day at the MoMA: I visited the MoMA sculpture garden",
            "I visited the MoMA again the next day for the MoMA film series",
            "We visited the MoMA on a rainy day and the MoMA cafe was full",
            "The day I visited the MoMA with my sister, the MoMA was quiet",
            "I visited the MoMA one more day to see the MoMA photography rooms",
            "That exhibit was so crowded that we barely saw anything in the rooms or the halls at all",
            "My sister cooked pasta for dinner",
            "The car needs new tyres before winter",
            "I started reading a novel about sailors",
            "Our neighbour adopted a beagle puppy",
            "The bakery on the corner sells sourdough",
            "My brother fixed the leaking kitchen tap",
            "We planted tomatoes and basil in the garden",
            "The marathon training plan starts in spring",
            "I switched my phone plan to a cheaper one",
            "The kids built a snowman in the yard",
            "Grandma knitted a scarf for my birthday",
            "The train to the coast was delayed again",
            "I signed up for a pottery class",
            "Our team won the pub quiz on Thursday",
            "The printer ran out of ink during the report",
            "I repainted the bedroom a pale green",
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

TEST_F(SecondHopSearchTest, TheSecondPartOfTheQuestionReachesTheTop) {
    open(0);
    EXPECT_EQ(exhibit_rank(Granularity::kTurn), 6u);  // below the six MoMA turns
    EXPECT_EQ(exhibit_rank(Granularity::kSession), 6u);
    open(1.0);
    // The top five cover "visit" and "MoMA", not "exhibit": the second hop searches "exhibit" alone.
    EXPECT_LE(exhibit_rank(Granularity::kTurn), 1u);
    EXPECT_LE(exhibit_rank(Granularity::kSession), 1u);
}

TEST_F(SecondHopSearchTest, AQuestionWithoutPartsMakesNoSecondHop) {
    open(1.0);
    SearchRequest req;
    req.cube_id = "u";
    req.query = "How many days did my visit to the MoMA exhibit take?";
    req.granularity = Granularity::kTurn;
    req.retriever = Retriever::kLexical;
    req.top_k = 10;
    auto with = mm_->search(req);
    open(0);
    auto without = mm_->search(req);
    ASSERT_TRUE(with.is_ok() && without.is_ok());
    ASSERT_EQ(with->size(), without->size());
    for (std::size_t i = 0; i < with->size(); ++i) EXPECT_EQ((*with)[i].text, (*without)[i].text);
}

}  // namespace
}  // namespace kasten::memory
