#include "eval/qa_cache.h"

#include <gtest/gtest.h>

#include "eval/qa_model.h"
#include "eval_fixture.h"
#include "fake_chat_server.h"
#include "llm/openai_client.h"

namespace kasten::eval {
namespace {

TEST(QaCacheTest, KeyDependsOnModelPromptAndSettings) {
    const std::string k = QaCache::key("openai:a", "prompt", 10, 0.0);
    EXPECT_EQ(k.size(), 64u);
    EXPECT_EQ(k, QaCache::key("openai:a", "prompt", 10, 0.0));
    EXPECT_NE(k, QaCache::key("openai:b", "prompt", 10, 0.0));
    EXPECT_NE(k, QaCache::key("openai:a", "prompt!", 10, 0.0));
    EXPECT_NE(k, QaCache::key("openai:a", "prompt", 11, 0.0));
    EXPECT_NE(k, QaCache::key("openai:a", "prompt", 10, 0.5));
    // Length prefixes keep field boundaries apart.
    EXPECT_NE(QaCache::key("ab", "c", 1, 0), QaCache::key("a", "bc", 1, 0));
}

TEST(QaCacheTest, PersistsAcrossOpensAndSkipsBrokenLines) {
    testing::TempDir dir;
    const std::string path = dir.file("sub/cache.jsonl");
    {
        auto cache = QaCache::open(path);
        ASSERT_TRUE(cache.is_ok()) << cache.status().to_string();
        EXPECT_EQ((*cache)->size(), 0);
        ASSERT_TRUE((*cache)->put("k1", "m", "yes").is_ok());
        ASSERT_TRUE((*cache)->put("k2", "m", "line\nbreak \"quoted\"").is_ok());
        EXPECT_EQ((*cache)->get("k1"), "yes");
        EXPECT_FALSE((*cache)->get("k3").has_value());
    }
    testing::write_file(path, testing::read_file(path) + "{\"key\": \"k3\", \"te");  // a line cut by a crash
    auto cache = QaCache::open(path);
    ASSERT_TRUE(cache.is_ok());
    EXPECT_EQ((*cache)->size(), 2);
    EXPECT_EQ((*cache)->skipped_lines(), 1);
    EXPECT_EQ((*cache)->get("k2"), "line\nbreak \"quoted\"");
}

TEST(QaModelTest, SecondAskIsServedFromTheCache) {
    testing::FakeChatServer server(
        [](const testing::RecordedRequest& r) { return testing::FakeChatServer::chat_reply("echo: " + r.prompt()); });
    llm::OpenAiClientOptions o;
    o.base_url = server.base_url();
    o.model = "reader";
    o.api_key_env = "";
    auto client = llm::OpenAiClient::create(o);
    ASSERT_TRUE(client.is_ok());
    testing::TempDir dir;
    auto cache = QaCache::open(dir.file("c.jsonl"));
    ASSERT_TRUE(cache.is_ok());
    QaModel model(std::shared_ptr<llm::LanguageModel>(std::move(client).value()), std::move(cache).value());
    auto a = model.ask("hello", 7);
    ASSERT_TRUE(a.is_ok()) << a.status().to_string();
    EXPECT_EQ(a->text, "echo: hello");
    EXPECT_FALSE(a->cached);
    auto b = model.ask("hello", 7);
    ASSERT_TRUE(b.is_ok());
    EXPECT_TRUE(b->cached);
    EXPECT_EQ(b->text, "echo: hello");
    EXPECT_EQ(server.request_count(), 1);
    EXPECT_EQ(model.model_calls(), 1);
    EXPECT_EQ(model.cache_hits(), 1);
    const auto req = server.requests().at(0).body;
    EXPECT_EQ(req["temperature"], 0.0);
    EXPECT_EQ(req["max_tokens"], 7);
    ASSERT_EQ(req["messages"].size(), 1u);
    EXPECT_EQ(req["messages"][0]["role"], "user");
}

}  // namespace
}  // namespace kasten::eval
