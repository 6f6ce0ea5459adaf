#include "eval/locomo_runner.h"

#include <gtest/gtest.h>

#include "eval/locomo_prompts.h"
#include "eval/locomo_report.h"
#include "eval_fixture.h"
#include "fake_chat_server.h"
#include "llm/hashing_embedder.h"
#include "llm/openai_client.h"
#include "locomo_fixture.h"
#include "memory/heuristic_link_decider.h"
#include "memory/heuristic_note_builder.h"

namespace kasten::eval {
namespace {

std::string write_fixture(const testing::TempDir& dir) {
    const std::string path = dir.file("locomo_fixture.json");
    testing::write_file(path, testing::locomo_fixture().dump(1));
    return path;
}

LocomoOptions bm25_options(const std::string& path) {
    LocomoOptions o;
    o.data_path = path;
    o.retrievers = {"bm25"};
    o.threads = 2;
    o.progress = false;
    return o;
}

const LocomoQuestionResult& find(const LocomoRun& run, const std::string& id) {
    for (const auto& q : run.questions) {
        if (q.id == id) return q;
    }
    throw std::runtime_error("no question " + id);
}

TEST(LocomoRunnerTest, Bm25EvidenceRecallAtDialogueAndSessionLevel) {
    testing::TempDir dir;
    auto run = run_locomo(bm25_options(write_fixture(dir)));
    ASSERT_TRUE(run.is_ok()) << run.status().to_string();
    EXPECT_EQ(run->samples, 2);
    EXPECT_EQ(run->sessions, 3);
    EXPECT_EQ(run->turns, 8);
    ASSERT_EQ(run->questions.size(), 6u);
    EXPECT_EQ(run->data_sha256.size(), 64u);

    // "What breed is Biscuit?": whitespace tokens match "breed" and "is" in D1:2, only "is" in D1:3 (the evidence);
    // "What" and "Biscuit?" match nothing (quotes and '?' stay on the tokens).
    const auto& q0 = find(*run, "conv-a:0");
    const auto& r0 = q0.retrievers.at(0);
    ASSERT_GE(r0.dialogue_ranked.size(), 2u);
    EXPECT_EQ(r0.dialogue_ranked[0], "D1:2");
    EXPECT_EQ(r0.dialogue_ranked[1], "D1:3");
    EXPECT_EQ(r0.dialogue.at("recall@1"), 0.0);
    EXPECT_EQ(r0.dialogue.at("recall@3"), 1.0);
    // With two session documents a term found in one of them has idf ln(1.5) - ln(1.5) = 0: all scores tie and
    // numpy's reversed argsort puts S2 first, as the official baseline would.
    EXPECT_EQ(r0.session_ranked, (std::vector<std::string>{"S2", "S1"}));
    EXPECT_EQ(r0.session.at("recall@1"), 0.0);
    EXPECT_EQ(r0.session.at("recall@2"), 1.0);

    // Two evidence dialogues, "puppy" puts D1:1 first: half the evidence at k = 1; all six dialogues by k = 10.
    const auto& q2 = find(*run, "conv-a:2");
    EXPECT_EQ(q2.category, 1);
    EXPECT_EQ(q2.retrievers[0].dialogue_ranked[0], "D1:1");
    EXPECT_DOUBLE_EQ(q2.retrievers[0].dialogue.at("recall@1"), 0.5);
    EXPECT_DOUBLE_EQ(q2.retrievers[0].dialogue.at("recall_all@1"), 0.0);
    EXPECT_DOUBLE_EQ(q2.retrievers[0].dialogue.at("recall@10"), 1.0);
    EXPECT_DOUBLE_EQ(q2.retrievers[0].session.at("recall@1"), 0.5);  // sessions 1 and 2, one in the top 1
    EXPECT_DOUBLE_EQ(q2.retrievers[0].session.at("recall@2"), 1.0);

    // No evidence: the official code counts recall 1.
    const auto& q4 = find(*run, "conv-a:4");
    EXPECT_DOUBLE_EQ(q4.retrievers[0].dialogue.at("recall@1"), 1.0);
    EXPECT_EQ(find(*run, "conv-a:3").answer, "Whiskers");

    LocomoReport report(*run, "kasten eval locomo");
    const auto& all = report.averages().at("bm25").at("dialogue").at("all");
    EXPECT_EQ(all.n, 6);
    EXPECT_EQ(report.averages().at("bm25").at("dialogue").at("cats_1_4").n, 5);
    EXPECT_EQ(report.averages().at("bm25").at("dialogue").at("5").n, 1);
    ASSERT_TRUE(report.write(dir.file("out")).is_ok());
    const std::string md = testing::read_file(dir.file("out/report.md"));
    EXPECT_NE(md.find("1 multi-hop, 2 temporal, 3 open-domain, 4 single-hop, 5 adversarial"), std::string::npos);
    EXPECT_NE(md.find("bm25 (baseline)"), std::string::npos);
    const auto metrics = nlohmann::json::parse(testing::read_file(dir.file("out/metrics.json")));
    EXPECT_EQ(metrics["benchmark"], "locomo");
    EXPECT_EQ(metrics["data_sha256"], run->data_sha256);
    EXPECT_EQ(metrics["command"], "kasten eval locomo");
    EXPECT_EQ(metrics["retrievers"]["bm25"]["dialogue"]["all"]["n"], 6);
    EXPECT_EQ(metrics["retrievers"]["bm25"]["dialogue"]["by_category"]["1"]["recall@1"], 0.5);
    EXPECT_NE(testing::read_file(dir.file("out/recall.svg")).find("<svg"), std::string::npos);
    EXPECT_NE(testing::read_file(dir.file("out/per_question.jsonl")).find("\"category_name\":\"multi-hop\""),
              std::string::npos);
}

TEST(LocomoRunnerTest, FiltersCategoriesAndLimits) {
    testing::TempDir dir;
    auto o = bm25_options(write_fixture(dir));
    o.categories = {4};
    auto run = run_locomo(o);
    ASSERT_TRUE(run.is_ok());
    ASSERT_EQ(run->questions.size(), 2u);
    EXPECT_EQ(run->questions[1].id, "conv-b:0");
    o.categories = {};
    o.limit = 3;
    EXPECT_EQ(run_locomo(o)->questions.size(), 3u);
    o.categories = {6};
    EXPECT_EQ(run_locomo(o).status().code(), StatusCode::kInvalidArgument);
}

TEST(LocomoRunnerTest, KastenRetrieversRankEveryDialogue) {
    testing::TempDir dir;
    auto o = bm25_options(write_fixture(dir));
    o.retrievers = {"bm25", "hybrid"};
    o.embedder = std::make_shared<llm::HashingEmbedder>(64);
    auto run = run_locomo(o);
    ASSERT_TRUE(run.is_ok()) << run.status().to_string();
    const auto& q0 = find(*run, "conv-a:0");
    ASSERT_EQ(q0.retrievers.size(), 2u);
    EXPECT_EQ(q0.retrievers[1].retriever, "hybrid");
    EXPECT_EQ(q0.retrievers[1].dialogue_ranked.size(), 6u);
    EXPECT_GT(q0.retrievers[1].retrieved, 0);
    EXPECT_DOUBLE_EQ(q0.retrievers[1].dialogue.at("recall@10"), 1.0);
    EXPECT_EQ(q0.retrievers[1].session_ranked.size(), 2u);
    o.embedder = nullptr;
    EXPECT_EQ(run_locomo(o).status().code(), StatusCode::kInvalidArgument);
}

// A conversation large enough that the lexical statistics decide rankings: four sessions of ten turns drawn from
// shared words (people, places, activities), with questions on them. Its notes (built for "+notes") repeat those
// words, so any statistics they shared with the turns and sessions would reorder the plain retrievers' rankings.
nlohmann::json shared_vocabulary_conversation() {
    using nlohmann::json;
    const std::vector<std::string> people = {"Maya", "Jonas", "Priya", "Tomas", "Lena"};
    const std::vector<std::string> places = {"harbour", "library", "market", "stadium", "garden", "museum"};
    const std::vector<std::string> activities = {"painting", "sailing",  "baking bread", "climbing",
                                                 "chess",    "kayaking", "pottery"};
    const std::vector<std::string> days = {"Monday", "Friday", "Sunday"};
    json conv = {{"speaker_a", "Ann"}, {"speaker_b", "Ben"}};
    json qa = json::array();
    int n = 0;
    for (int s = 1; s <= 4; ++s) {
        json turns = json::array();
        for (int t = 1; t <= 10; ++t, ++n) {
            const std::string text =
                "I went " + activities[n % activities.size()] + " with " + people[(n * 3) % people.size()] +
                " near the " + places[(n * 5) % places.size()] + " on " + days[n % days.size()] + " and " +
                (n % 2 == 0
                     ? "the " + places[(n + 2) % places.size()] + " was busy"
                     : people[(n + 1) % people.size()] + " loved the " + activities[(n + 3) % activities.size()]);
            const std::string id = "D" + std::to_string(s) + ":" + std::to_string(t);
            turns.push_back({{"speaker", t % 2 == 1 ? "Ann" : "Ben"}, {"dia_id", id}, {"text", text}});
            if (t % 3 == 0) {
                qa.push_back({{"question", "Who went " + activities[n % activities.size()] + " near the " +
                                               places[(n * 5) % places.size()] + "?"},
                              {"answer", people[(n * 3) % people.size()]},
                              {"evidence", {id}},
                              {"category", 4}});
            }
        }
        conv["session_" + std::to_string(s) + "_date_time"] =
            std::to_string(s) + ":00 pm on " + std::to_string(s + 1) + " May, 2023";
        conv["session_" + std::to_string(s)] = turns;
    }
    return json::array({{{"sample_id", "conv-shared"}, {"conversation", conv}, {"qa", qa}}});
}

// A retriever's result must not depend on its neighbours in the run: "+notes" builds notes into the same cube, and
// plain retrievers must rank exactly as they do in a run without notes.
TEST(LocomoRunnerTest, RetrieversRankTheSameAloneAsBesideNotes) {
    testing::TempDir dir;
    const std::string path = dir.file("shared_vocabulary.json");
    testing::write_file(path, shared_vocabulary_conversation().dump(1));
    LocomoOptions o;
    o.data_path = path;
    o.progress = false;
    o.embedder = std::make_shared<llm::HashingEmbedder>(64);
    o.notes = NoteBuilding{std::make_shared<memory::HeuristicNoteBuilder>(),
                           std::make_shared<memory::HeuristicLinkDecider>()};
    o.retrievers = {"bm25", "lexical", "hybrid"};
    auto alone = run_locomo(o);
    ASSERT_TRUE(alone.is_ok()) << alone.status().to_string();
    o.retrievers = {"bm25", "lexical", "hybrid", "hybrid+notes"};
    auto together = run_locomo(o);
    ASSERT_TRUE(together.is_ok()) << together.status().to_string();
    EXPECT_EQ(alone->notes_seconds, 0);
    EXPECT_GT(together->notes_seconds, 0);  // the notes were built into the plain retrievers' cube
    ASSERT_EQ(alone->questions.size(), together->questions.size());
    ASSERT_GE(alone->questions.size(), 10u);
    bool notes_ranked_differently = false;
    for (std::size_t i = 0; i < alone->questions.size(); ++i) {
        const auto& a = alone->questions[i];
        const auto& b = together->questions[i];
        ASSERT_EQ(a.retrievers.size(), 3u);
        ASSERT_EQ(b.retrievers.size(), 4u);
        for (std::size_t r = 0; r < a.retrievers.size(); ++r) {
            SCOPED_TRACE(a.id + " " + a.retrievers[r].retriever);
            ASSERT_EQ(a.retrievers[r].retriever, b.retrievers[r].retriever);
            EXPECT_EQ(a.retrievers[r].dialogue_ranked, b.retrievers[r].dialogue_ranked);
            EXPECT_EQ(a.retrievers[r].session_ranked, b.retrievers[r].session_ranked);
            EXPECT_EQ(a.retrievers[r].retrieved, b.retrievers[r].retrieved);
            EXPECT_EQ(a.retrievers[r].dialogue, b.retrievers[r].dialogue);
            EXPECT_EQ(a.retrievers[r].session, b.retrievers[r].session);
        }
        ASSERT_EQ(b.retrievers[3].retriever, "hybrid+notes");
        notes_ranked_differently =
            notes_ranked_differently || b.retrievers[3].dialogue_ranked != b.retrievers[2].dialogue_ranked;
    }
    EXPECT_TRUE(notes_ranked_differently);  // the notes were in the cube and searchable
}

// Packed contexts: every strategy, scored against the evidence dialogues (D<session>:<turn>) and their sessions.
TEST(LocomoRunnerTest, PackedContextsAreScoredAgainstTheEvidenceDialogues) {
    testing::TempDir dir;
    auto o = bm25_options(write_fixture(dir));
    o.retrievers = {"bm25", "hybrid"};
    o.embedder = std::make_shared<llm::HashingEmbedder>(64);
    o.context.budget = 4096;  // the fixture's conversations are smaller: every turn fits
    auto run = run_locomo(o);
    ASSERT_TRUE(run.is_ok()) << run.status().to_string();
    const auto& q2 = find(*run, "conv-a:2");  // evidence D1:1 and D2:3: two turns in two sessions
    ASSERT_EQ(q2.contexts.size(), 4u);        // auto, turn, session, note (no top-5 baseline)
    EXPECT_EQ(q2.contexts[0].strategy, "auto");
    for (const auto& c : q2.contexts) {
        EXPECT_EQ(c.evidence_sessions, 2) << c.strategy;
        EXPECT_EQ(c.evidence_turns, 2) << c.strategy;
        if (c.strategy == "note") {  // no notes without a "+notes" retriever: nothing to pack
            EXPECT_EQ(c.mode, "empty");
            EXPECT_EQ(c.sessions_covered, 0);
            continue;
        }
        EXPECT_EQ(c.mode, "packed") << c.strategy;  // never the full history: the measure is packing
        EXPECT_LE(c.tokens, 4096) << c.strategy;
        EXPECT_TRUE(c.all_sessions()) << c.strategy;
        EXPECT_EQ(c.turns_covered, 2) << c.strategy;
    }
    // A question without evidence dialogues has nothing to cover.
    const auto& q4 = find(*run, "conv-a:4");
    ASSERT_EQ(q4.contexts.size(), 4u);
    EXPECT_EQ(q4.contexts[0].evidence_sessions, 0);
    // Tight: fewer turns fit, never over the budget.
    o.context.budget = 40;
    auto tight = run_locomo(o);
    ASSERT_TRUE(tight.is_ok()) << tight.status().to_string();
    for (const auto& c : find(*tight, "conv-a:2").contexts) {
        EXPECT_LE(c.tokens, 40) << c.strategy;
        EXPECT_LE(c.turns_covered, 2) << c.strategy;
    }
    const std::string md = context_coverage_markdown({find(*run, "conv-a:2").contexts}, 4096, "estimate");
    EXPECT_NE(md.find("| auto | 1 | 1 (1.000)"), std::string::npos) << md;
}

// The QA path end to end against a loopback chat-completions server: official reader prompt, official F1, the J
// judge on categories 1-4 only, and a rerun served from the cache.
TEST(LocomoRunnerTest, QaWithReaderAndJudgeThroughTheCache) {
    testing::TempDir dir;
    testing::FakeChatServer server([](const testing::RecordedRequest& r) {
        const std::string p = r.prompt();
        if (p.find("Generated answer:") != std::string::npos) {
            const bool wrong = p.find("Generated answer: 2023") != std::string::npos;
            return testing::FakeChatServer::chat_reply(wrong ? "Not the same. {\"label\": \"WRONG\"}"
                                                             : "{\"label\": \"CORRECT\"}");
        }
        if (p.find("What breed is Biscuit?") != std::string::npos)
            return testing::FakeChatServer::chat_reply("A corgi.");
        if (p.find("pottery classes?") != std::string::npos) return testing::FakeChatServer::chat_reply("2023");
        if (p.find("Bob's teacher?") != std::string::npos) return testing::FakeChatServer::chat_reply("Biscuit, Rosa");
        if (p.find("cat named?") != std::string::npos) return testing::FakeChatServer::chat_reply("(a)");
        if (p.find("dog park?") != std::string::npos) return testing::FakeChatServer::chat_reply("Likely yes");
        return testing::FakeChatServer::chat_reply("Carol");
    });
    auto make_model = [&](const std::string& model, std::shared_ptr<QaCache> cache) {
        llm::OpenAiClientOptions co;
        co.base_url = server.base_url();
        co.model = model;
        co.api_key_env = "";
        return std::make_shared<QaModel>(std::shared_ptr<llm::LanguageModel>(llm::OpenAiClient::create(co).value()),
                                         cache);
    };
    const std::string data = write_fixture(dir);
    for (int pass = 0; pass < 2; ++pass) {
        auto cache = QaCache::open(dir.file("qa_cache.jsonl"));
        ASSERT_TRUE(cache.is_ok());
        std::shared_ptr<QaCache> shared = std::move(cache).value();
        auto o = bm25_options(data);
        o.reader = make_model("reader-model", shared);
        o.judge = make_model("judge-model", shared);
        o.reader_top_k = 2;
        auto run = run_locomo(o);
        ASSERT_TRUE(run.is_ok()) << run.status().to_string();
        if (pass == 0) {
            EXPECT_EQ(server.request_count(), 6 + 5);  // 6 readers, 5 judges (category 5 is not judged)
            EXPECT_EQ(o.reader->model_calls(), 6);
        } else {
            EXPECT_EQ(server.request_count(), 11) << "the rerun must be served from the cache";
            EXPECT_EQ(o.reader->cache_hits(), 6);
            EXPECT_EQ(o.judge->cache_hits(), 5);
        }
        const auto& q0 = find(*run, "conv-a:0");
        ASSERT_EQ(q0.qa.size(), 1u);
        EXPECT_EQ(q0.qa[0].context, "retrieval");
        EXPECT_EQ(q0.qa[0].answer, "A corgi.");
        EXPECT_DOUBLE_EQ(q0.qa[0].f1, 1.0);
        EXPECT_EQ(q0.qa[0].judge_correct, true);
        const auto& q1 = find(*run, "conv-a:1");
        EXPECT_DOUBLE_EQ(q1.qa[0].f1, 1.0);
        EXPECT_EQ(q1.qa[0].judge_correct, false);
        EXPECT_DOUBLE_EQ(find(*run, "conv-a:2").qa[0].f1, 1.0);
        const auto& q3 = find(*run, "conv-a:3");
        const bool nm_first = locomo_not_mentioned_first("conv-a", 3);
        EXPECT_EQ(q3.qa[0].answer, nm_first ? "Not mentioned in the conversation" : "Whiskers");
        EXPECT_DOUBLE_EQ(q3.qa[0].f1, nm_first ? 1.0 : 0.0);
        EXPECT_FALSE(q3.qa[0].judge_correct.has_value());
        EXPECT_DOUBLE_EQ(find(*run, "conv-a:4").qa[0].f1, 1.0);  // gold cut at ';'
    }
    // The reader saw the official RAG context (top 2 by bm25, in rank order) and prompt; the judge Mem0's prompt.
    bool saw_reader = false, saw_judge = false;
    for (const auto& r : server.requests()) {
        const std::string p = r.prompt();
        if (p.rfind("1:56 pm on 8 May, 2023: Bob said, \"What breed is Biscuit\"\n1:56 pm on 8 May, 2023: Alice said, "
                    "\"Biscuit is a corgi\"\n\n\nBased on the above context, write an answer",
                    0) == 0) {
            saw_reader = true;
            EXPECT_EQ(r.body["max_tokens"], 32);
            EXPECT_EQ(r.body["model"], "reader-model");
        }
        if (p.find("Question: What breed is Biscuit?\nGold answer: corgi\nGenerated answer: A corgi.\n") !=
            std::string::npos) {
            saw_judge = true;
            EXPECT_EQ(r.body["model"], "judge-model");
            EXPECT_EQ(r.body["temperature"], 0.0);
        }
    }
    EXPECT_TRUE(saw_reader);
    EXPECT_TRUE(saw_judge);
}

}  // namespace
}  // namespace kasten::eval
