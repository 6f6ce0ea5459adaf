#include "eval/dialogue_ranking.h"

#include <memory>

#include <gtest/gtest.h>

#include "llm/hashing_embedder.h"

namespace kasten::eval {
namespace {

TEST(DialogueRankingTest, Bm25RanksTurnsAndSessionsByScore) {
    const Bm25Okapi turns({{"the", "cat", "sat"}, {"a", "dog", "ran"}, {"my", "dog", "dog", "barked"}});
    const Bm25Okapi sessions({{"the", "cat", "sat"}, {"a", "dog", "ran", "my", "dog", "dog", "barked"}});
    auto r = rank_dialogue("bm25", "dog", &turns, &sessions, nullptr);
    ASSERT_TRUE(r.is_ok()) << r.status().message();
    ASSERT_EQ(r->turns.size(), 3u);
    EXPECT_EQ(r->turns[0], 2);  // most "dog"
    EXPECT_EQ(r->turns[1], 1);
    EXPECT_EQ(r->sessions.size(), 2u);
    EXPECT_EQ(r->retrieved, 3);
    EXPECT_GE(r->seconds, 0.0);
}

TEST(DialogueRankingTest, Bm25WithoutIndexesGivesEmptyRankings) {
    auto r = rank_dialogue("bm25", "dog", nullptr, nullptr, nullptr);
    ASSERT_TRUE(r.is_ok());
    EXPECT_TRUE(r->turns.empty());
    EXPECT_TRUE(r->sessions.empty());
    EXPECT_EQ(r->retrieved, 0);
}

TEST(DialogueRankingTest, KastenRetrieverRanksThroughHaystackCoveringEveryTurnAndSession) {
    std::vector<DialogueSession> sessions = {
        {"s1", 1'700'000'000'000, {{"user", "I adopted a cat named Miso"}, {"assistant", "Lovely name"}}},
        {"s2", 1'700'086'400'000, {{"user", "My sister plays the violin"}}},
    };
    auto h = DialogueHaystack::ingest(sessions, std::make_shared<llm::HashingEmbedder>(64));
    ASSERT_TRUE(h.is_ok()) << h.status().message();
    auto r = rank_dialogue("lexical", "violin", nullptr, nullptr, h.value().get());
    ASSERT_TRUE(r.is_ok()) << r.status().message();
    ASSERT_EQ(r->turns.size(), 3u);
    EXPECT_EQ(r->turns[0], 2);
    ASSERT_EQ(r->sessions.size(), 2u);
    EXPECT_EQ(r->sessions[0], 1);
    EXPECT_GE(r->retrieved, 1);
}

}  // namespace
}  // namespace kasten::eval
