#include "eval/longmemeval_qa.h"

#include <gtest/gtest.h>

#include <atomic>

#include "eval/longmemeval_qa_stage.h"
#include "eval/longmemeval_report.h"
#include "eval/longmemeval_runner.h"
#include "eval_fixture.h"
#include "fake_chat_server.h"
#include "llm/openai_client.h"

namespace kasten::eval {
namespace {

using testing::FixtureSession;
using testing::turn;

const std::string kSsuJudge =
    "I will give you a question, a correct answer, and a response from a model. Please answer yes if the response "
    "contains the correct answer. Otherwise, answer no. If the response is equivalent to the correct answer or "
    "contains "
    "all the intermediate steps to get the correct answer, you should also answer yes. If the response only contains a "
    "subset of the information required by the answer, answer no. \n\nQuestion: Q?\n\nCorrect Answer: A\n\nModel "
    "Response: R\n\nIs the model response correct? Answer yes or no only.";

TEST(LongMemEvalQaTest, ReaderPromptIsTheChainOfNotePromptVerbatim) {
    EXPECT_EQ(
        longmemeval_reader_prompt("HISTORY", "2023/05/30 (Tue) 23:40", "What did I buy?"),
        "I will give you several history chats between you and a user. Please answer the question based on the "
        "relevant chat history. Answer the question step by step: first extract all the relevant information, and "
        "then reason over the information to get the answer.\n\nHistory Chats: HISTORY\n\nCurrent Date: 2023/05/30 "
        "(Tue) 23:40\n\nQuestion: What did I buy?\nAnswer (step by step):");
}

TEST(LongMemEvalQaTest, JudgePromptsPerType) {
    EXPECT_EQ(*longmemeval_judge_prompt("single-session-user", false, "Q?", "A", "R"), kSsuJudge);
    EXPECT_EQ(*longmemeval_judge_prompt("multi-session", false, "Q?", "A", "R"), kSsuJudge);
    EXPECT_EQ(*longmemeval_judge_prompt("single-session-assistant", false, "Q?", "A", "R"), kSsuJudge);
    const std::string tr = *longmemeval_judge_prompt("temporal-reasoning", false, "Q?", "A", "R");
    EXPECT_NE(
        tr.find("answer no. In addition, do not penalize off-by-one errors for the number of days. If the question "
                "asks for the number of days/weeks/months, etc., and the model makes off-by-one errors (e.g., "
                "predicting 19 days when the answer is 18), the model's response is still correct. \n\nQuestion: Q?"),
        std::string::npos);
    EXPECT_EQ(*longmemeval_judge_prompt("knowledge-update", false, "Q?", "A", "R"),
              "I will give you a question, a correct answer, and a response from a model. Please answer yes if the "
              "response contains the correct answer. Otherwise, answer no. If the response contains some previous "
              "information along with an updated answer, the response should be considered as correct as long as the "
              "updated answer is the required answer.\n\nQuestion: Q?\n\nCorrect Answer: A\n\nModel Response: R\n\nIs "
              "the model response correct? Answer yes or no only.");
    const std::string ssp = *longmemeval_judge_prompt("single-session-preference", false, "Q?", "A", "R");
    EXPECT_NE(ssp.find("personal information correctly.\n\nQuestion: Q?\n\nRubric: A\n\nModel Response: R\n\n"),
              std::string::npos);
    // "_abs" selects the abstention prompt whatever the type.
    const std::string abs = *longmemeval_judge_prompt("knowledge-update", true, "Q?", "A", "R");
    EXPECT_EQ(abs.rfind("I will give you an unanswerable question, an explanation, and a response from a model.", 0),
              0u);
    EXPECT_NE(
        abs.find("\n\nQuestion: Q?\n\nExplanation: A\n\nModel Response: R\n\nDoes the model correctly identify the "
                 "question as unanswerable? Answer yes or no only."),
        std::string::npos);
    EXPECT_EQ(longmemeval_judge_prompt("other", false, "Q", "A", "R").status().code(), StatusCode::kInvalidArgument);
}

TEST(LongMemEvalQaTest, VerdictIsYesInTheLowerCasedReply) {
    EXPECT_TRUE(longmemeval_judge_correct("Yes."));
    EXPECT_TRUE(longmemeval_judge_correct("  YES"));
    EXPECT_FALSE(longmemeval_judge_correct("No"));
    EXPECT_FALSE(longmemeval_judge_correct(""));
}

TEST(LongMemEvalQaTest, PythonJsonQuoting) {
    EXPECT_EQ(python_json_quote("plain"), "\"plain\"");
    EXPECT_EQ(python_json_quote("a\"b\\c\n\t\x01"), "\"a\\\"b\\\\c\\n\\t\\u0001\"");
    EXPECT_EQ(python_json_quote("caf\xc3\xa9 \xe2\x82\xac"), "\"caf\\u00e9 \\u20ac\"");
    EXPECT_EQ(python_json_quote("\xf0\x9f\x98\x80"), "\"\\ud83d\\ude00\"");  // 😀 as a surrogate pair
    EXPECT_EQ(python_json_quote("\x7f"), "\"\x7f\"");
}

LongMemEvalQuestion parsed(const nlohmann::json& j) {
    auto q = parse_longmemeval_question(j.dump(), 0);
    EXPECT_TRUE(q.is_ok()) << q.status().to_string();
    return std::move(q).value();
}

TEST(LongMemEvalQaTest, SessionHistoryIsSortedByDateAsJson) {
    const auto q = parsed(testing::question(
        "q1", "single-session-user", "Q?", "A",
        {{"s_late", "2023/05/22 (Mon) 12:30", {turn("user", "later \"one\""), turn("assistant", "ok")}},
         {"answer_early", "2023/05/20 (Sat) 02:21", {turn("user", "I got a dog", 1), turn("assistant", "Nice", 0)}},
         {"s_other", "2023/05/21 (Sun) 09:00", {turn("user", "x")}}},
        {"answer_early"}));
    // Ranked: the late session, then the early one (given as its official id); only the top 2 are used.
    const std::string h = longmemeval_history(q, {"s_late", "answer_early", "s_other"}, 2, CorpusGranularity::kSession);
    EXPECT_EQ(
        h,
        "\n### Session 1:\nSession Date: 2023/05/20 (Sat) 02:21\nSession Content:\n\n"
        "[{\"role\": \"user\", \"content\": \"I got a dog\"}, {\"role\": \"assistant\", \"content\": \"Nice\"}]\n"
        "\n### Session 2:\nSession Date: 2023/05/22 (Mon) 12:30\nSession Content:\n\n"
        "[{\"role\": \"user\", \"content\": \"later \\\"one\\\"\"}, {\"role\": \"assistant\", \"content\": \"ok\"}]\n");
    // A "noans" id (the rewrite for sessions without user-side evidence) maps back to its session.
    const auto q2 =
        parsed(testing::question("q2", "single-session-assistant", "Q?", "A",
                                 {{"answer_a", "2023/05/20 (Sat) 02:21", {turn("user", "hi", 0)}}}, {"answer_a"}));
    EXPECT_NE(longmemeval_history(q2, {"noans_a"}, 5, CorpusGranularity::kSession).find("\"hi\""), std::string::npos);
}

TEST(LongMemEvalQaTest, TurnHistoryExpandsATurnIntoItsRound) {
    const auto q = parsed(testing::question(
        "q1", "single-session-user", "Q?", "A",
        {{"s1",
          "2023/05/20 (Sat) 02:21",
          {turn("user", "u1"), turn("assistant", "a1"), turn("user", "u2"), turn("assistant", "a2")}}},
        {}));
    EXPECT_EQ(longmemeval_history(q, {"s1_3", "s1_1", "nosuch_1", "s1_9"}, 2, CorpusGranularity::kTurn),
              "\n### Session 1:\nSession Date: 2023/05/20 (Sat) 02:21\nSession Content:\n\n"
              "[{\"role\": \"user\", \"content\": \"u2\"}, {\"role\": \"assistant\", \"content\": \"a2\"}]\n"
              "\n### Session 2:\nSession Date: 2023/05/20 (Sat) 02:21\nSession Content:\n\n"
              "[{\"role\": \"user\", \"content\": \"u1\"}, {\"role\": \"assistant\", \"content\": \"a1\"}]\n");
}

TEST(LongMemEvalQaTest, AccuracyAsPrintQaMetrics) {
    LongMemEvalQaScorer s;
    s.add("single-session-user", false, true);
    s.add("single-session-user", true, false);
    s.add("multi-session", false, true);
    const auto acc = s.result();
    EXPECT_EQ(acc.by_type.at("single-session-user").n, 2);
    EXPECT_DOUBLE_EQ(acc.by_type.at("single-session-user").accuracy(), 0.5);
    EXPECT_DOUBLE_EQ(acc.task_averaged, 0.75);
    EXPECT_DOUBLE_EQ(acc.overall.accuracy(), 2.0 / 3.0);
    EXPECT_EQ(acc.abstention.n, 1);
    EXPECT_DOUBLE_EQ(acc.abstention.accuracy(), 0.0);
}

// QA mode end to end against a loopback chat-completions server: the reader's hypotheses are written in the official
// JSONL, the judge gets the official prompt, a 503 is retried, and a rerun makes no request.
TEST(LongMemEvalQaTest, EndToEndWithReaderJudgeRetryAndCache) {
    testing::TempDir dir;
    const std::string d1 = "2023/05/20 (Sat) 02:21", d2 = "2023/05/21 (Sun) 09:00";
    nlohmann::json all = nlohmann::json::array();
    all.push_back(testing::question(
        "q_ssu", "single-session-user", "What did I name my golden retriever", "Max",
        {{"other_1", d2, {turn("user", "Is it going to rain today"), turn("assistant", "Maybe.")}},
         {"answer_s1",
          d1,
          {turn("user", "I adopted a golden retriever named Max", 1), turn("assistant", "Lovely!", 0)}}},
        {"answer_s1"}));
    all.push_back(testing::question("q_abs", "temporal-reasoning", "How many days ago did I buy a cat",
                                    "You did not mention a cat",
                                    {{"other_3", d1, {turn("user", "my golden retriever Max is great")}}}, {}));
    const std::string data = dir.file("lme.json");
    testing::write_file(data, all.dump());

    std::atomic<int> calls{0};
    testing::FakeChatServer server([&](const testing::RecordedRequest& r) {
        if (calls++ == 0) return testing::FakeChatServer::error(503, "warming up");
        const std::string p = r.prompt();
        if (p.find("Answer yes or no only.") != std::string::npos) {
            return testing::FakeChatServer::chat_reply(p.find("named Max") != std::string::npos ? "Yes." : "no");
        }
        if (p.find("golden retriever") != std::string::npos && p.find("What did I name") != std::string::npos) {
            return testing::FakeChatServer::chat_reply("  You named it Max. The dog is named Max.\n");
        }
        return testing::FakeChatServer::chat_reply("About 3 days.");
    });
    auto model = [&](const std::string& name, std::shared_ptr<QaCache> cache) {
        llm::OpenAiClientOptions co;
        co.base_url = server.base_url();
        co.model = name;
        co.api_key_env = "";
        co.initial_backoff_ms = 1;
        return std::make_shared<QaModel>(std::shared_ptr<llm::LanguageModel>(llm::OpenAiClient::create(co).value()),
                                         cache);
    };
    for (int pass = 0; pass < 2; ++pass) {
        std::shared_ptr<QaCache> cache = QaCache::open(dir.file("qa_cache.jsonl")).value();
        LongMemEvalOptions o;
        o.data_path = data;
        o.retrievers = {"bm25"};
        o.threads = 1;
        o.progress = false;
        LongMemEvalQaOptions qo;
        qo.reader = model("reader-model", cache);
        qo.judge = model("gpt-4o-2024-08-06", cache);
        qo.retriever = "bm25";
        qo.top_k = 1;
        o.hook = make_longmemeval_qa_hook(qo, o.granularity);
        auto run = run_longmemeval(o);
        ASSERT_TRUE(run.is_ok()) << run.status().to_string();
        EXPECT_EQ(server.request_count(), 5) << "pass " << pass;  // 1 x 503 + 2 readers + 2 judges, then all cached
        QaRunInfo info;
        info.reader = qo.reader->id();
        info.judge = qo.judge->id();
        info.retriever = "bm25";
        info.top_k = 1;
        info.reader_calls = qo.reader->model_calls();
        info.reader_cache_hits = qo.reader->cache_hits();
        run->qa = info;
        ASSERT_TRUE(run->questions[0].qa.has_value());
        EXPECT_EQ(run->questions[0].qa->hypothesis, "You named it Max. The dog is named Max.");
        EXPECT_EQ(run->questions[0].qa->correct, true);
        EXPECT_EQ(run->questions[1].qa->correct, false);
        EXPECT_EQ(run->questions[0].qa->reader_cached, pass == 1);
        LongMemEvalReport report(*run, "kasten eval longmemeval");
        const auto acc = report.qa_accuracy();
        EXPECT_DOUBLE_EQ(acc.overall.accuracy(), 0.5);
        EXPECT_EQ(acc.abstention.n, 1);  // "_abs" in the id
        EXPECT_DOUBLE_EQ(acc.abstention.accuracy(), 0.0);
        ASSERT_TRUE(report.write(dir.file("out")).is_ok());
        EXPECT_EQ(testing::read_file(dir.file("out/hypotheses.jsonl")),
                  "{\"question_id\":\"q_ssu\",\"hypothesis\":\"You named it Max. The dog is named Max.\"}\n"
                  "{\"question_id\":\"q_abs\",\"hypothesis\":\"About 3 days.\"}\n");
        const auto metrics = nlohmann::json::parse(testing::read_file(dir.file("out/metrics.json")));
        EXPECT_DOUBLE_EQ(metrics["qa"]["overall"]["accuracy"].get<double>(), 0.5);
        EXPECT_DOUBLE_EQ(metrics["qa"]["task_averaged"].get<double>(), 0.5);
        EXPECT_EQ(metrics["qa"]["by_type"]["single-session-user"]["n"], 1);
        EXPECT_NE(testing::read_file(dir.file("out/per_question.jsonl")).find("\"hypothesis\""), std::string::npos);
        EXPECT_NE(testing::read_file(dir.file("out/report.md")).find("## QA"), std::string::npos);
    }
    const auto reqs = server.requests();
    // The reader got the Chain-of-Note prompt with the top session as JSON (greedy, 800 tokens).
    const std::string reader_prompt = reqs[1].prompt();
    EXPECT_EQ(reader_prompt.rfind("I will give you several history chats between you and a user.", 0), 0u);
    EXPECT_NE(
        reader_prompt.find("History Chats: \n### Session 1:\nSession Date: 2023/05/20 (Sat) 02:21\nSession "
                           "Content:\n\n[{\"role\": \"user\", \"content\": \"I adopted a golden retriever named "
                           "Max\"}, {\"role\": \"assistant\", \"content\": \"Lovely!\"}]\n\n\nCurrent Date: "
                           "2023/06/01 (Thu) 10:00\n\nQuestion: What did I name my golden retriever\nAnswer (step by "
                           "step):"),
        std::string::npos);
    EXPECT_EQ(reqs[1].body["max_tokens"], 800);
    EXPECT_EQ(reqs[1].body["temperature"], 0.0);
    // The judge got the official single-session-user prompt with the stripped hypothesis (temperature 0, 10 tokens).
    bool judged = false;
    for (const auto& r : reqs) {
        if (r.body.value("model", "") != "gpt-4o-2024-08-06") continue;
        if (r.prompt().find("What did I name") == std::string::npos) continue;
        judged = true;
        EXPECT_EQ(r.body["max_tokens"], 10);
        EXPECT_EQ(r.prompt(),
                  *longmemeval_judge_prompt("single-session-user", false, "What did I name my golden retriever", "Max",
                                            "You named it Max. The dog is named Max."));
    }
    EXPECT_TRUE(judged);
    // "_abs" in the id selects the abstention prompt over the temporal-reasoning one.
    bool abstention_judged = false;
    for (const auto& r : reqs) {
        if (r.prompt().rfind("I will give you an unanswerable question", 0) == 0) abstention_judged = true;
    }
    EXPECT_TRUE(abstention_judged);
}

}  // namespace
}  // namespace kasten::eval
