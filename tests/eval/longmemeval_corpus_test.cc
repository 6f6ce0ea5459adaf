#include "eval/longmemeval_corpus.h"

#include <gtest/gtest.h>

#include "eval_fixture.h"

namespace kasten::eval {
namespace {

using testing::FixtureSession;
using testing::turn;

LongMemEvalQuestion fixture() {
    std::vector<FixtureSession> sessions = {
        {"answer_aaa_1",
         "2023/05/20 (Sat) 02:21",
         {turn("user", "I bought a red bike", 1), turn("assistant", "Nice bike", 0), turn("user", "It was cheap", 0)}},
        // Listed as evidence, but the evidence is on the assistant side only: rewritten to noans.
        {"answer_aaa_2",
         "2023/05/21 (Sun) 02:21",
         {turn("user", "What bikes are good?", 0), turn("assistant", "Red bikes are great", 1)}},
        {"sharegpt_x_0", "2023/05/22 (Mon) 02:21", {turn("assistant", "Hello"), turn("user", "Tell me a joke")}},
        {"ultra_1", "2023/05/23 (Tue) 02:21", {turn("assistant", "Assistant-only session")}},
    };
    auto q = parse_longmemeval_question(testing::question("q", "multi-session", "Which bike did I buy?", "red",
                                                          sessions, {"answer_aaa_1", "answer_aaa_2"})
                                            .dump(),
                                        0);
    EXPECT_TRUE(q.is_ok());
    return *q;
}

TEST(LongMemEvalCorpusTest, SessionDocumentsAreUserTurnsOnlyWithTheNoansRewrite) {
    OfficialCorpus c = build_official_corpus(fixture(), CorpusGranularity::kSession);
    ASSERT_EQ(c.documents.size(), 4u);
    EXPECT_EQ(c.ids(), (std::vector<std::string>{"answer_aaa_1", "noans_aaa_2", "sharegpt_x_0", "ultra_1"}));
    EXPECT_EQ(c.documents[0].text, "I bought a red bike It was cheap");
    EXPECT_EQ(c.documents[1].text, "What bikes are good?");
    EXPECT_EQ(c.documents[2].text, "Tell me a joke");
    EXPECT_EQ(c.documents[3].text, "");  // a session without user turns is still a document
    EXPECT_EQ(c.documents[2].session_index, 2);
    EXPECT_EQ(c.documents[2].turn_index, -1);
    EXPECT_EQ(c.gold_ids, std::vector<std::string>{"answer_aaa_1"});
}

TEST(LongMemEvalCorpusTest, TurnIdsCountAllTurnsOfTheSession) {
    OfficialCorpus c = build_official_corpus(fixture(), CorpusGranularity::kTurn);
    // User turns only; the index i+1 counts assistant turns too (sharegpt_x_0's user turn is its 2nd turn).
    EXPECT_EQ(c.ids(),
              (std::vector<std::string>{"answer_aaa_1_1", "noans_aaa_1_3", "noans_aaa_2_1", "sharegpt_x_0_2"}));
    EXPECT_EQ(c.documents[1].text, "It was cheap");
    EXPECT_EQ(c.documents[1].session_index, 0);
    EXPECT_EQ(c.documents[1].turn_index, 2);
    EXPECT_EQ(c.documents[3].turn_index, 1);
    EXPECT_EQ(c.gold_ids, std::vector<std::string>{"answer_aaa_1_1"});
}

TEST(LongMemEvalCorpusTest, NoUserEvidenceMeansNoGold) {
    auto q = fixture();
    q.haystack_sessions[0][0].has_answer = false;
    EXPECT_TRUE(build_official_corpus(q, CorpusGranularity::kSession).gold_ids.empty());
    EXPECT_TRUE(build_official_corpus(q, CorpusGranularity::kTurn).gold_ids.empty());
    EXPECT_FALSE(q.has_user_side_evidence());
}

TEST(LongMemEvalCorpusTest, RepeatedSessionIdsStaySeparateDocuments) {
    auto q = fixture();
    q.haystack_session_ids[3] = "sharegpt_x_0";
    q.haystack_sessions[3] = q.haystack_sessions[2];
    OfficialCorpus c = build_official_corpus(q, CorpusGranularity::kSession);
    ASSERT_EQ(c.documents.size(), 4u);
    EXPECT_EQ(c.documents[3].id, "sharegpt_x_0");
    EXPECT_EQ(c.documents[3].session_index, 3);
}

TEST(LongMemEvalCorpusTest, StripTurnIdDropsTheLastComponent) {
    EXPECT_EQ(strip_turn_id("answer_aaa_1_3"), "answer_aaa_1");
    EXPECT_EQ(strip_turn_id("ultrachat_231069_12"), "ultrachat_231069");
    EXPECT_EQ(strip_turn_id("plain"), "");
}

TEST(LongMemEvalCorpusTest, GranularityNames) {
    CorpusGranularity g;
    EXPECT_TRUE(parse_corpus_granularity("turn", &g));
    EXPECT_EQ(g, CorpusGranularity::kTurn);
    EXPECT_STREQ(corpus_granularity_name(g), "turn");
    EXPECT_FALSE(parse_corpus_granularity("note", &g));
}

}  // namespace
}  // namespace kasten::eval
