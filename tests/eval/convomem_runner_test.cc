#include "eval/convomem_runner.h"

#include <gtest/gtest.h>

#include "convomem_fixture.h"
#include "eval/convomem_report.h"
#include "eval_fixture.h"
#include "fake_chat_server.h"
#include "llm/hashing_embedder.h"
#include "llm/openai_client.h"

namespace kasten::eval {
namespace {

std::string write_fixture(const testing::TempDir& dir) {
    const std::string path = dir.file("category_x/dataset_0.json");
    std::filesystem::create_directories(dir.path() / "category_x");
    testing::write_file(path, testing::convomem_test_case_fixture().dump(1));
    return path;
}

ConvoMemOptions bm25_options(const std::string& path) {
    ConvoMemOptions o;
    o.data_path = path;
    o.retrievers = {"bm25"};
    o.threads = 2;
    o.progress = false;
    return o;
}

TEST(ConvoMemRunnerTest, Bm25EvidenceRecall) {
    testing::TempDir dir;
    auto run = run_convomem(bm25_options(write_fixture(dir)));
    ASSERT_TRUE(run.is_ok()) << run.status().to_string();
    EXPECT_EQ(run->test_cases, 1);
    ASSERT_EQ(run->items.size(), 5u);
    const auto& i0 = run->items[0];
    EXPECT_EQ(i0.evidence_keys, std::vector<std::string>{"s1#0"});
    EXPECT_EQ(i0.context_size, 3);
    EXPECT_EQ(i0.judge, ConvoMemJudge::kDefault);
    // "Where did I move last month?": "I" and "last" match s1#0 only.
    EXPECT_EQ(i0.retrievers[0].message_ranked.front(), "s1#0");
    EXPECT_DOUBLE_EQ(i0.retrievers[0].message.at("recall@1"), 1.0);
    EXPECT_EQ(i0.retrievers[0].conversation_ranked.front(), "s1");
    EXPECT_DOUBLE_EQ(i0.retrievers[0].conversation.at("recall@1"), 1.0);
    // Unlocated evidence is a miss at every k.
    EXPECT_EQ(run->items[2].evidence_unlocated, 1);
    EXPECT_DOUBLE_EQ(run->items[2].retrievers[0].message.at("recall@50"), 0.0);
    // The full context holds everything; the retrieval context (top 10 of 7 messages) too, and is not larger.
    EXPECT_DOUBLE_EQ(i0.retrieval_evidence_recall, 1.0);
    EXPECT_LE(i0.retrieval_prompt_chars, i0.full_prompt_chars);

    ConvoMemReport report(*run, "kasten eval convomem");
    const auto& msg = report.averages().at("bm25").at("message");
    EXPECT_EQ(msg.at("all").n, 4);  // item 3 has no evidence
    EXPECT_EQ(msg.at("context:0003").n, 4);
    EXPECT_EQ(msg.at("category:locomo_category_5").n, 1);
    ASSERT_TRUE(report.write(dir.file("out")).is_ok());
    const auto metrics = nlohmann::json::parse(testing::read_file(dir.file("out/metrics.json")));
    EXPECT_EQ(metrics["benchmark"], "convomem");
    EXPECT_EQ(metrics["items"]["without_evidence"], 1);
    EXPECT_EQ(metrics["items"]["evidence_unlocated"], 1);
    EXPECT_EQ(metrics["retrievers"]["bm25"]["message"]["by_context_size"]["3"]["n"], 4);
    EXPECT_EQ(metrics["context_paths"]["all"]["n"], 4);
    const std::string md = testing::read_file(dir.file("out/report.md"));
    EXPECT_NE(md.find("Full context vs retrieval"), std::string::npos);
    EXPECT_NE(md.find("(LoCoMo adversarial)"), std::string::npos);
}

TEST(ConvoMemRunnerTest, EvidenceItemsShapeAndKastenRetriever) {
    testing::TempDir dir;
    const std::string path = dir.file("ev.json");
    testing::write_file(path, testing::convomem_evidence_fixture().dump());
    auto o = bm25_options(path);
    o.retrievers = {"bm25", "hybrid"};
    o.embedder = std::make_shared<llm::HashingEmbedder>(64);
    auto run = run_convomem(o);
    ASSERT_TRUE(run.is_ok()) << run.status().to_string();
    ASSERT_EQ(run->items.size(), 2u);
    EXPECT_EQ(run->items[0].judge, ConvoMemJudge::kUserFacts);
    EXPECT_EQ(run->items[1].judge, ConvoMemJudge::kRubric);
    EXPECT_EQ(run->items[0].retrievers[1].retriever, "hybrid");
    EXPECT_EQ(run->items[0].retrievers[1].message_ranked.size(), 2u);
    EXPECT_DOUBLE_EQ(run->items[0].retrievers[1].message.at("recall@10"), 1.0);
}

TEST(ConvoMemRunnerTest, QaOnBothPathsWithCategoryJudgesAndCache) {
    testing::TempDir dir;
    testing::FakeChatServer server([](const testing::RecordedRequest& r) {
        const std::string p = r.prompt();
        if (p.find("RIGHT") != std::string::npos) {  // a judge prompt
            const bool right = p.find("Denver") != std::string::npos || p.find("ABSTENTION") != std::string::npos;
            return testing::FakeChatServer::chat_reply(right ? "RIGHT" : "WRONG");
        }
        if (p.find("Where did I move") != std::string::npos) return testing::FakeChatServer::chat_reply(" Denver ");
        if (p.find("dog's name") != std::string::npos) return testing::FakeChatServer::chat_reply("I don't know.");
        return testing::FakeChatServer::chat_reply("Not sure");
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
        std::shared_ptr<QaCache> cache = QaCache::open(dir.file("cache.jsonl")).value();
        auto o = bm25_options(data);
        o.reader = make_model("reader", cache);
        o.judge = make_model("judge", cache);
        o.reader_top_k = 2;
        auto run = run_convomem(o);
        ASSERT_TRUE(run.is_ok()) << run.status().to_string();
        // 5 items x 2 paths of readers; both paths of an item got the same reply here, so their judge prompts are
        // identical and the second is a cache hit: 10 + 5 requests, all in the first pass.
        EXPECT_EQ(server.request_count(), 15) << "pass " << pass;
        const auto& i0 = run->items[0];
        ASSERT_EQ(i0.qa.size(), 2u);
        EXPECT_EQ(i0.qa[0].context, "full");
        EXPECT_EQ(i0.qa[1].context, "retrieval");
        EXPECT_EQ(i0.qa[0].hypothesis, "Denver");
        EXPECT_EQ(i0.qa[0].correct, true);
        EXPECT_GT(i0.qa[0].prompt_chars, i0.qa[1].prompt_chars);
        EXPECT_EQ(run->items[2].qa[0].correct, true);   // abstention judged by the abstention prompt
        EXPECT_EQ(run->items[1].qa[0].correct, false);  // "Not sure" for a factual question
        ConvoMemReport report(*run, "cmd");
        EXPECT_DOUBLE_EQ(report.qa_averages().at("full").at("all").mean.at("accuracy"), 2.0 / 5.0);
    }
    bool saw_retrieval_prompt = false, saw_abstention_judge = false;
    for (const auto& r : server.requests()) {
        const std::string p = r.prompt();
        // The retrieval path: the top 2 messages, grouped into their conversations, numbered from 1.
        if (p.find("\n\nConversation 1:\nUser: I just moved to Denver last month\n\nConversation 2:\nUser: I work as a "
                   "nurse at the city hospital\n\nQuestion: Where did I move last month?\n\nAnswer:") !=
            std::string::npos) {
            saw_retrieval_prompt = true;
        }
        if (p.find("You are evaluating an ABSTENTION test") == 0 &&
            p.find("Model Response: I don't know.") != std::string::npos) {
            saw_abstention_judge = true;
        }
    }
    EXPECT_TRUE(saw_retrieval_prompt);
    EXPECT_TRUE(saw_abstention_judge);
}

}  // namespace
}  // namespace kasten::eval
