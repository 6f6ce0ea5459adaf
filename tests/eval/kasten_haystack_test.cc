#include "eval/kasten_haystack.h"

#include <gtest/gtest.h>

#include "eval_fixture.h"
#include "llm/hashing_embedder.h"

namespace kasten::eval {
namespace {

using testing::FixtureSession;
using testing::turn;

LongMemEvalQuestion fixture() {
    // Dates out of order, a repeated session id and an id with characters MemoryManager does not accept.
    std::vector<FixtureSession> sessions = {
        {"late session",
         "2023/05/30 (Tue) 10:00",
         {turn("user", "I planted tomatoes in the garden"), turn("assistant", "Remember zucchini too")}},
        {"answer_ab12_1",
         "2023/05/01 (Mon) 10:00",
         {turn("assistant", "How can I help?", 0), turn("user", "My sister Alice lives in Lisbon", 1)}},
        {"dup_0", "2023/05/10 (Wed) 10:00", {turn("user", "Lisbon trams are yellow")}},
        {"dup_0", "2023/05/11 (Thu) 10:00", {turn("user", "quantum chromodynamics lecture notes")}},
    };
    auto q = parse_longmemeval_question(testing::question("q", "single-session-user", "Where does my sister Alice live",
                                                          "Lisbon", sessions, {"answer_ab12_1"})
                                            .dump(),
                                        0);
    EXPECT_TRUE(q.is_ok());
    return *q;
}

TEST(KastenHaystackTest, SanitizesSessionIds) {
    EXPECT_EQ(KastenHaystack::sanitize_session_id("answer_ab12_1"), "answer_ab12_1");
    EXPECT_EQ(KastenHaystack::sanitize_session_id("late session/é"), "late_session___");
    EXPECT_EQ(KastenHaystack::sanitize_session_id(""), "_");
    EXPECT_EQ(KastenHaystack::sanitize_session_id(std::string(300, 'a')).size(), 100u);
}

TEST(KastenHaystackTest, SessionHitsMapBackToHaystackPositions) {
    auto q = fixture();
    auto hs = KastenHaystack::ingest(q, std::make_shared<llm::HashingEmbedder>(64));
    ASSERT_TRUE(hs.is_ok()) << hs.status().to_string();
    OfficialCorpus corpus = build_official_corpus(q, CorpusGranularity::kSession);

    // The second "dup_0" is a separate MemoryManager session and maps back to position 3.
    auto r = (*hs)->rank(memory::Retriever::kLexical, "quantum chromodynamics", corpus);
    ASSERT_TRUE(r.is_ok()) << r.status().to_string();
    ASSERT_EQ(r->ranking.size(), 4u);
    EXPECT_EQ(r->retrieved, 1);
    EXPECT_EQ(r->ranking[0], 3);
    EXPECT_EQ(r->ranking[1], 0);  // the rest in corpus order
    EXPECT_EQ(r->ranking[2], 1);

    auto alice = (*hs)->rank(memory::Retriever::kLexical, "Where does my sister Alice live", corpus);
    ASSERT_TRUE(alice.is_ok());
    EXPECT_EQ(alice->ranking[0], 1);

    auto hybrid = (*hs)->rank(memory::Retriever::kHybrid, "sister Alice Lisbon", corpus);
    ASSERT_TRUE(hybrid.is_ok()) << hybrid.status().to_string();
    EXPECT_EQ(hybrid->ranking.size(), 4u);
}

TEST(KastenHaystackTest, TurnHitsAreUserTurnsMappedToOfficialTurnIds) {
    auto q = fixture();
    auto hs = KastenHaystack::ingest(q, std::make_shared<llm::HashingEmbedder>(64));
    ASSERT_TRUE(hs.is_ok()) << hs.status().to_string();
    OfficialCorpus corpus = build_official_corpus(q, CorpusGranularity::kTurn);
    ASSERT_EQ(corpus.ids(), (std::vector<std::string>{"late session_1", "answer_ab12_1_2", "dup_0_1", "dup_0_1"}));

    auto r = (*hs)->rank(memory::Retriever::kLexical, "sister Alice", corpus);
    ASSERT_TRUE(r.is_ok()) << r.status().to_string();
    EXPECT_EQ(r->ranking[0], 1);  // answer_ab12_1_2: the user turn is the session's 2nd turn

    // A word only an assistant turn has: no official document is retrieved, the ranking still covers the corpus.
    auto z = (*hs)->rank(memory::Retriever::kLexical, "zucchini", corpus);
    ASSERT_TRUE(z.is_ok());
    EXPECT_EQ(z->retrieved, 0);
    EXPECT_EQ(z->ranking, (std::vector<int>{0, 1, 2, 3}));
}

TEST(KastenHaystackTest, BadDatesAreReported) {
    auto q = fixture();
    q.haystack_dates[2] = "yesterday";
    auto hs = KastenHaystack::ingest(q, std::make_shared<llm::HashingEmbedder>(64));
    ASSERT_FALSE(hs.is_ok());
    EXPECT_EQ(hs.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(hs.status().message().find("haystack_dates[2]"), std::string::npos);
}

}  // namespace
}  // namespace kasten::eval
