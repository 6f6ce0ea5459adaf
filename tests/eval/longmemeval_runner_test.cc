#include "eval/longmemeval_runner.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <set>

#include "eval/longmemeval_report.h"
#include "eval_fixture.h"
#include "llm/hashing_embedder.h"
#include "memory/heuristic_link_decider.h"
#include "memory/heuristic_note_builder.h"

namespace kasten::eval {
namespace {

using testing::FixtureSession;
using testing::turn;

// Four questions in the official format:
//   q_ssu   — one gold session; BM25 ranks it first.
//   q_abs   — abstention: in neither average.
//   q_ssa   — evidence on an assistant turn only: no gold (recall_all 1, ndcg 0), in no_abs only.
//   q_ms    — two gold sessions; BM25 ranks them 1st and 3rd.
std::string write_fixture(const testing::TempDir& dir) {
    const std::string d1 = "2023/05/20 (Sat) 02:21", d2 = "2023/05/21 (Sun) 09:00", d3 = "2023/05/22 (Mon) 12:30";
    nlohmann::json all = nlohmann::json::array();
    all.push_back(testing::question(
        "q_ssu", "single-session-user", "What did I name my golden retriever", "Max",
        {{"other_1", d1, {turn("user", "Is it going to rain today"), turn("assistant", "Maybe.")}},
         {"answer_s1",
          d2,
          {turn("user", "I adopted a golden retriever named Max", 1), turn("assistant", "Lovely dog!", 0)}},
         {"other_2", d3, {turn("user", "cooking pasta tonight"), turn("assistant", "Enjoy your golden pasta")}}},
        {"answer_s1"}));
    all.push_back(testing::question("q_abs", "single-session-user", "What did I name my cat",
                                    "You did not mention a cat",
                                    {{"other_3", d1, {turn("user", "my golden retriever Max is great")}},
                                     {"other_4", d2, {turn("user", "nothing about pets here")}}},
                                    {}));
    all.push_back(testing::question(
        "q_ssa", "single-session-assistant", "Which recipe did you suggest", "carbonara",
        {{"answer_a1", d1, {turn("user", "Suggest a pasta recipe", 0), turn("assistant", "Try carbonara", 1)}},
         {"other_5", d2, {turn("user", "hello there")}}},
        {"answer_a1"}));
    all.push_back(testing::question(
        "q_ms", "multi-session", "How many guitar lessons and piano lessons did I take", 7,
        {{"answer_m1", d1, {turn("user", "I took four guitar lessons", 1)}},
         {"other_6", d2, {turn("user", "piano and guitar")}},
         {"answer_m2", d3, {turn("user", "I took three piano lessons last month and it was fun and I liked it", 1)}},
         {"other_7", d3, {turn("user", "completely unrelated words")}},
         {"other_8", d3, {turn("user", "more unrelated words")}}},
        {"answer_m1", "answer_m2"}));
    std::string path = dir.file("lme_fixture.json");
    testing::write_file(path, all.dump(1));
    return path;
}

LongMemEvalOptions bm25_options(const std::string& path) {
    LongMemEvalOptions o;
    o.data_path = path;
    o.retrievers = {"bm25"};
    o.threads = 2;
    o.progress = false;
    return o;
}

TEST(LongMemEvalRunnerTest, Bm25SessionRunScoresEveryQuestionOfficially) {
    testing::TempDir dir;
    auto run = run_longmemeval(bm25_options(write_fixture(dir)));
    ASSERT_TRUE(run.is_ok()) << run.status().to_string();
    ASSERT_EQ(run->questions.size(), 4u);
    EXPECT_EQ(run->questions_in_file, 4);
    EXPECT_EQ(run->data_sha256.size(), 64u);

    const auto& ssu = run->questions[0];
    EXPECT_EQ(ssu.question_id, "q_ssu");
    EXPECT_EQ(ssu.gold_ids, std::vector<std::string>{"answer_s1"});
    ASSERT_EQ(ssu.retrievers.size(), 1u);
    EXPECT_EQ(ssu.retrievers[0].ranked_ids.front(), "answer_s1");
    EXPECT_EQ(ssu.retrievers[0].metrics.at("session").at("recall_all@1"), 1);

    const auto& ssa = run->questions[2];
    EXPECT_TRUE(ssa.gold_ids.empty());  // answer_a1 was rewritten to noans_a1
    EXPECT_EQ(ssa.retrievers[0].metrics.at("session").at("recall_all@1"), 1);
    EXPECT_EQ(ssa.retrievers[0].metrics.at("session").at("ndcg_any@5"), 0);
    EXPECT_FALSE(ssa.user_side_evidence);

    const auto& ms = run->questions[3];
    EXPECT_EQ(ms.answer, "7");
    const auto& ranked = ms.retrievers[0].ranked_ids;
    // rank_bm25 scores (checked against a transcription of rank_bm25 0.2.2 + numpy argsort): 1.435, 1.290, 1.226,
    // 0, 0; the two zero scores keep numpy's reversed order (higher index first).
    ASSERT_EQ(ranked, (std::vector<std::string>{"answer_m1", "other_6", "answer_m2", "other_8", "other_7"}));
    EXPECT_EQ(ms.retrievers[0].metrics.at("session").at("recall_all@1"), 0);
    EXPECT_EQ(ms.retrievers[0].metrics.at("session").at("recall_all@3"), 1);
    // Gold at ranks 1 and 3: nDCG@3 = (1 + 1/log2(3)) / 2.
    EXPECT_NEAR(ms.retrievers[0].metrics.at("session").at("ndcg_any@3"), (1 + 1 / std::log2(3.0)) / 2, 1e-12);

    LongMemEvalReport report(*run, "kasten eval longmemeval --data x --out y");
    const AverageSet& a = report.averages().at("bm25").at("session");
    EXPECT_EQ(a.strict.n, 2);  // q_ssu, q_ms
    EXPECT_DOUBLE_EQ(a.strict.mean.at("recall_all@1"), 0.5);
    EXPECT_DOUBLE_EQ(a.strict.mean.at("recall_all@3"), 1.0);
    EXPECT_EQ(a.no_abs.n, 3);  // + q_ssa
    EXPECT_DOUBLE_EQ(a.no_abs.mean.at("recall_all@1"), 2.0 / 3.0);
    EXPECT_EQ(a.no_abs_by_type.at("single-session-assistant").n, 1);
    EXPECT_EQ(a.strict_by_type.count("single-session-assistant"), 0u);
}

TEST(LongMemEvalRunnerTest, TurnRunScoresTurnsAndSessions) {
    testing::TempDir dir;
    auto options = bm25_options(write_fixture(dir));
    options.granularity = CorpusGranularity::kTurn;
    options.threads = 1;
    auto run = run_longmemeval(options);
    ASSERT_TRUE(run.is_ok()) << run.status().to_string();
    const auto& ssu = run->questions[0];
    EXPECT_EQ(ssu.gold_ids, std::vector<std::string>{"answer_s1_1"});
    EXPECT_EQ(ssu.documents, 3);  // one per user turn
    const auto& m = ssu.retrievers[0].metrics;
    ASSERT_TRUE(m.count("turn"));
    ASSERT_TRUE(m.count("session"));
    EXPECT_EQ(m.at("turn").at("recall_all@1"), 1);
    EXPECT_EQ(m.at("session").at("recall_all@1"), 1);
}

TEST(LongMemEvalRunnerTest, TypesAndLimitSelectQuestionsInFileOrder) {
    testing::TempDir dir;
    auto options = bm25_options(write_fixture(dir));
    options.types = {"multi-session", "single-session-assistant"};
    auto run = run_longmemeval(options);
    ASSERT_TRUE(run.is_ok()) << run.status().to_string();
    ASSERT_EQ(run->questions.size(), 2u);
    EXPECT_EQ(run->questions[0].question_id, "q_ssa");
    EXPECT_EQ(run->questions[1].question_id, "q_ms");
    EXPECT_EQ(run->questions[1].file_index, 3);

    options.types.clear();
    options.limit = 2;
    auto limited = run_longmemeval(options);
    ASSERT_TRUE(limited.is_ok());
    ASSERT_EQ(limited->questions.size(), 2u);
    EXPECT_EQ(limited->questions[1].question_id, "q_abs");
}

TEST(LongMemEvalRunnerTest, HookSeesEveryQuestionAndItsErrorStopsTheRun) {
    testing::TempDir dir;
    auto options = bm25_options(write_fixture(dir));
    std::atomic<int> calls{0};
    options.hook = [&](const LongMemEvalQuestion& q, QuestionResult& r) {
        EXPECT_EQ(q.question_id, r.question_id);
        ++calls;
        return Status::ok();
    };
    ASSERT_TRUE(run_longmemeval(options).is_ok());
    EXPECT_EQ(calls.load(), 4);

    options.hook = [](const LongMemEvalQuestion& q, QuestionResult&) {
        return q.question_id == "q_ms" ? Status::internal("reader failed") : Status::ok();
    };
    auto failed = run_longmemeval(options);
    ASSERT_FALSE(failed.is_ok());
    EXPECT_NE(failed.status().message().find("q_ms"), std::string::npos);
}

TEST(LongMemEvalRunnerTest, RejectsBadOptionsAndBadFiles) {
    testing::TempDir dir;
    auto options = bm25_options(write_fixture(dir));
    options.retrievers = {"bm25", "magic"};
    EXPECT_EQ(run_longmemeval(options).status().code(), StatusCode::kInvalidArgument);
    options.retrievers = {"hybrid"};  // no embedder
    EXPECT_EQ(run_longmemeval(options).status().code(), StatusCode::kInvalidArgument);
    options = bm25_options(dir.file("missing.json"));
    EXPECT_EQ(run_longmemeval(options).status().code(), StatusCode::kNotFound);
    testing::write_file(dir.file("bad.json"), "[{\"question_id\": \"x\"}]");
    options = bm25_options(dir.file("bad.json"));
    auto bad = run_longmemeval(options);
    ASSERT_FALSE(bad.is_ok());
    EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
}

TEST(LongMemEvalRunnerTest, KastenRetrieversRankTheWholeCorpusThroughMemoryManager) {
    testing::TempDir dir;
    auto options = bm25_options(write_fixture(dir));
    options.retrievers = {"bm25", "lexical", "vector", "hybrid"};
    options.embedder = std::make_shared<llm::HashingEmbedder>(128);
    for (auto g : {CorpusGranularity::kSession, CorpusGranularity::kTurn}) {
        options.granularity = g;
        auto run = run_longmemeval(options);
        ASSERT_TRUE(run.is_ok()) << run.status().to_string();
        EXPECT_EQ(run->embedder_id, options.embedder->id());
        for (const auto& q : run->questions) {
            ASSERT_EQ(q.retrievers.size(), 4u);
            std::multiset<std::string> corpus(q.retrievers[0].ranked_ids.begin(), q.retrievers[0].ranked_ids.end());
            for (const auto& r : q.retrievers) {
                // Every retriever's ranking is a permutation of the official corpus.
                EXPECT_EQ(std::multiset<std::string>(r.ranked_ids.begin(), r.ranked_ids.end()), corpus)
                    << q.question_id << " " << r.retriever;
                EXPECT_LE(r.retrieved, q.documents);
            }
        }
        // Xapian finds the gold user turn / session of q_ssu first ("golden retriever").
        const auto& lexical = run->questions[0].retrievers[1];
        EXPECT_EQ(lexical.retriever, "lexical");
        EXPECT_EQ(lexical.metrics.at("session").at("recall_all@1"), 1);
        EXPECT_GT(run->questions[0].ingest_seconds, 0);
    }
}

// Two questions over haystacks of twelve sessions drawn from shared words (people, places, activities), so the
// lexical statistics decide rankings; the notes a "+notes" retriever builds repeat those words.
std::string write_shared_vocabulary_fixture(const testing::TempDir& dir) {
    const std::vector<std::string> people = {"Maya", "Jonas", "Priya", "Tomas", "Lena"};
    const std::vector<std::string> places = {"harbour", "library", "market", "stadium", "garden", "museum"};
    const std::vector<std::string> activities = {"painting", "sailing",  "baking bread", "climbing",
                                                 "chess",    "kayaking", "pottery"};
    nlohmann::json all = nlohmann::json::array();
    for (int q = 0; q < 2; ++q) {
        std::vector<testing::FixtureSession> sessions;
        for (int s = 0; s < 12; ++s) {
            testing::FixtureSession session{"s" + std::to_string(q) + "_" + std::to_string(s),
                                            "2023/05/" + std::to_string(10 + s) + " (Sat) 10:00",
                                            {}};
            for (int t = 0; t < 3; ++t) {
                const int n = q * 7 + s * 3 + t;
                session.turns.push_back(testing::turn(
                    "user",
                    "I went " + activities[n % activities.size()] + " with " + people[(n * 3) % people.size()] +
                        " near the " + places[(n * 5) % places.size()] + " and " + people[(n + 1) % people.size()] +
                        " loved the " + places[(n + 2) % places.size()],
                    s == 4 ? 1 : 0));
                session.turns.push_back(testing::turn(
                    "assistant", "That sounds like a lovely day at the " + places[(n + 4) % places.size()], 0));
            }
            sessions.push_back(std::move(session));
        }
        all.push_back(testing::question("q" + std::to_string(q), "single-session-user",
                                        "Where did I go " + activities[(q * 7 + 12) % activities.size()] + " with " +
                                            people[((q * 7 + 12) * 3) % people.size()] + "?",
                                        "the harbour", sessions, {"s" + std::to_string(q) + "_4"}));
    }
    const std::string path = dir.file("lme_shared_vocabulary.json");
    testing::write_file(path, all.dump(1));
    return path;
}

// A retriever's result must not depend on its neighbours in the run: the notes built for "+notes" share the plain
// retrievers' cube, and the plain retrievers must rank exactly as in a run without them.
TEST(LongMemEvalRunnerTest, RetrieversRankTheSameAloneAsBesideNotes) {
    testing::TempDir dir;
    auto options = bm25_options(write_shared_vocabulary_fixture(dir));
    options.embedder = std::make_shared<llm::HashingEmbedder>(64);
    options.notes = NoteBuilding{std::make_shared<memory::HeuristicNoteBuilder>(),
                                 std::make_shared<memory::HeuristicLinkDecider>()};
    for (auto g : {CorpusGranularity::kSession, CorpusGranularity::kTurn}) {
        options.granularity = g;
        options.retrievers = {"bm25", "lexical", "hybrid"};
        auto alone = run_longmemeval(options);
        ASSERT_TRUE(alone.is_ok()) << alone.status().to_string();
        options.retrievers = {"bm25", "lexical", "hybrid", "hybrid+notes"};
        auto together = run_longmemeval(options);
        ASSERT_TRUE(together.is_ok()) << together.status().to_string();
        ASSERT_EQ(alone->questions.size(), 2u);
        ASSERT_EQ(together->questions.size(), 2u);
        for (std::size_t i = 0; i < 2; ++i) {
            const auto& a = alone->questions[i];
            const auto& b = together->questions[i];
            EXPECT_EQ(a.notes_built, 0);
            EXPECT_GT(b.notes_built, 0);  // the notes were built into the plain retrievers' cube
            ASSERT_EQ(a.retrievers.size(), 3u);
            ASSERT_EQ(b.retrievers.size(), 4u);
            for (std::size_t r = 0; r < 3; ++r) {
                SCOPED_TRACE(a.question_id + " " + a.retrievers[r].retriever);
                EXPECT_EQ(a.retrievers[r].retriever, b.retrievers[r].retriever);
                EXPECT_EQ(a.retrievers[r].ranked_ids, b.retrievers[r].ranked_ids);
                EXPECT_EQ(a.retrievers[r].retrieved, b.retrievers[r].retrieved);
                EXPECT_EQ(a.retrievers[r].metrics, b.retrievers[r].metrics);
            }
        }
    }
}

}  // namespace
}  // namespace kasten::eval
