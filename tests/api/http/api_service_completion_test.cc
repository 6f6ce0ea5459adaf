// The OpenAI-compatible routes of ApiService, with a scripted LanguageModel.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "api/http/api_service.h"
#include "llm/hashing_embedder.h"

namespace kasten::api {
namespace {

using nlohmann::json;

// Generates "pieces" one by one (at most max_tokens), recording what it was asked.
class ScriptedModel final : public llm::LanguageModel {
  public:
    std::string id() const override { return "scripted:test"; }
    Result<llm::Generation> chat(const std::vector<llm::ChatMessage>& messages, const llm::GenerationOptions& options,
                                 const llm::TokenCallback& on_token) override {
        last_messages = messages;
        return run(options, on_token);
    }
    Result<llm::Generation> complete(std::string_view prompt, const llm::GenerationOptions& options,
                                     const llm::TokenCallback& on_token) override {
        last_prompt = std::string(prompt);
        return run(options, on_token);
    }

    std::vector<std::string> pieces = {"Once", " upon", " a", " time"};
    Status fail = Status::ok();
    std::vector<llm::ChatMessage> last_messages;
    std::string last_prompt;
    llm::GenerationOptions last_options;

  private:
    Result<llm::Generation> run(const llm::GenerationOptions& options, const llm::TokenCallback& on_token) {
        last_options = options;
        if (!fail.is_ok()) return fail;
        llm::Generation g;
        g.prompt_tokens = 3;
        g.finish_reason = "stop";
        for (const auto& p : pieces) {
            if (g.completion_tokens == options.max_tokens) {
                g.finish_reason = "length";
                break;
            }
            g.text += p;
            ++g.completion_tokens;
            if (on_token && !on_token(p)) break;
        }
        return g;
    }
};

class ApiServiceCompletionTest : public ::testing::Test {
  protected:
    void open(llm::LanguageModel* model, std::map<std::string, std::vector<std::string>> keys = {}) {
        memory::MemoryOptions options;
        options.in_memory = true;
        options.embedder = std::make_shared<llm::HashingEmbedder>(64);
        auto m = memory::MemoryManager::open(std::move(options));
        ASSERT_TRUE(m.is_ok()) << m.status().to_string();
        memory_ = std::move(m).value();
        ApiServiceOptions o;
        o.version = "test";
        o.embedder_dim = 64;
        o.api_keys = std::move(keys);
        o.language_model = model;
        o.completion_limits = {/*max_tokens=*/50, /*default_max_tokens=*/10};
        service_ = std::make_unique<ApiService>(*memory_, o);
    }

    HttpResponse post(const std::string& target, const std::string& body) {
        HttpRequest r;
        r.method = "POST";
        r.target = target;
        r.body = body;
        return service_->handle(r);
    }

    // Runs the response's stream and returns the SSE data payloads, in order.
    static std::vector<std::string> drain(const HttpResponse& r) {
        std::string all;
        EXPECT_TRUE(static_cast<bool>(r.stream));
        if (!r.stream) return {};
        r.stream([&](std::string_view chunk) {
            all += chunk;
            return true;
        });
        std::vector<std::string> events;
        size_t pos = 0;
        while (pos < all.size()) {
            size_t end = all.find("\n\n", pos);
            EXPECT_NE(end, std::string::npos) << all;
            if (end == std::string::npos) break;
            std::string event = all.substr(pos, end - pos);
            EXPECT_EQ(event.rfind("data: ", 0), 0u) << event;
            events.push_back(event.substr(6));
            pos = end + 2;
        }
        return events;
    }

    std::unique_ptr<memory::MemoryManager> memory_;
    std::unique_ptr<ApiService> service_;
};

TEST_F(ApiServiceCompletionTest, WithoutAModelTheRoutesAnswer501) {
    open(nullptr);
    for (const char* target : {"/v1/chat/completions", "/v1/completions"}) {
        HttpResponse r = post(target, R"({"prompt":"x"})");
        EXPECT_EQ(r.status, 501) << r.body;
        json j = json::parse(r.body);
        EXPECT_EQ(j["error"]["code"], 501);
        EXPECT_EQ(j["error"]["type"], "not_supported");
        EXPECT_NE(j["error"]["message"].get<std::string>().find("--model"), std::string::npos);
    }
    EXPECT_TRUE(json::parse(post("/healthz", "").body).is_object());
    HttpRequest health{"GET", "/healthz", {}, ""};
    EXPECT_TRUE(json::parse(service_->handle(health).body)["model"].is_null());
}

TEST_F(ApiServiceCompletionTest, ChatCompletionNonStreaming) {
    ScriptedModel model;
    open(&model);
    HttpResponse r = post("/v1/chat/completions",
                          R"({"model":"any","messages":[{"role":"user","content":"Tell me"}],"temperature":0,)"
                          R"("max_tokens":3,"stop":"END","seed":9})");
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_FALSE(r.stream);
    EXPECT_EQ(r.route, "/v1/chat/completions");
    json j = json::parse(r.body);
    EXPECT_EQ(j["object"], "chat.completion");
    EXPECT_EQ(j["model"], "scripted:test");
    EXPECT_EQ(j["choices"][0]["message"]["content"], "Once upon a");
    EXPECT_EQ(j["choices"][0]["finish_reason"], "length");
    EXPECT_EQ(j["usage"]["completion_tokens"], 3);
    ASSERT_EQ(model.last_messages.size(), 1u);
    EXPECT_EQ(model.last_messages[0].content, "Tell me");
    EXPECT_EQ(model.last_options.temperature, 0.0);
    EXPECT_EQ(model.last_options.seed, 9u);
    EXPECT_EQ(model.last_options.stop, (std::vector<std::string>{"END"}));

    HttpRequest health{"GET", "/healthz", {}, ""};
    EXPECT_EQ(json::parse(service_->handle(health).body)["model"], "scripted:test");
}

TEST_F(ApiServiceCompletionTest, StreamingChatMatchesNonStreaming) {
    ScriptedModel model;
    open(&model);
    HttpResponse r = post("/v1/chat/completions", R"({"messages":[{"role":"user","content":"Hi"}],"stream":true})");
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.content_type, "text/event-stream");
    std::vector<std::string> events = drain(r);
    ASSERT_EQ(events.size(), 1u + 4u + 1u + 1u);  // role, 4 pieces, finish, [DONE]
    EXPECT_EQ(json::parse(events[0])["choices"][0]["delta"]["role"], "assistant");
    std::string text;
    for (size_t i = 1; i < 5; ++i) text += json::parse(events[i])["choices"][0]["delta"]["content"].get<std::string>();
    EXPECT_EQ(text, "Once upon a time");
    EXPECT_EQ(json::parse(events[5])["choices"][0]["finish_reason"], "stop");
    EXPECT_EQ(events[6], "[DONE]");
    EXPECT_EQ(model.last_options.max_tokens, 10);  // the default
}

TEST_F(ApiServiceCompletionTest, TextCompletionsAndClientDisconnects) {
    ScriptedModel model;
    open(&model);
    HttpResponse r = post("/v1/completions", R"({"prompt":"Once","max_tokens":2})");
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(json::parse(r.body)["choices"][0]["text"], "Once upon");
    EXPECT_EQ(model.last_prompt, "Once");

    HttpResponse s = post("/v1/completions", R"({"prompt":"Once","stream":true})");
    ASSERT_TRUE(static_cast<bool>(s.stream));
    int chunks = 0;
    s.stream([&](std::string_view) { return ++chunks < 2; });  // the client goes away after the second chunk
    EXPECT_EQ(chunks, 2);
}

TEST_F(ApiServiceCompletionTest, BadRequestsAndModelErrors) {
    ScriptedModel model;
    open(&model);
    EXPECT_EQ(post("/v1/chat/completions", R"({"messages":[{"role":"user","content":"x"}],"n":2})").status, 400);
    EXPECT_EQ(post("/v1/chat/completions", R"({"messages":[{"role":"user","content":"x"}],"max_tokens":51})").status,
              400);
    EXPECT_EQ(post("/v1/completions", "").status, 400);
    HttpRequest get{"GET", "/v1/chat/completions", {}, ""};
    EXPECT_EQ(service_->handle(get).status, 405);

    model.fail = Status::resource_exhausted("the prompt does not fit in the context");
    EXPECT_EQ(post("/v1/completions", R"({"prompt":"x"})").status, 413);
    HttpResponse s = post("/v1/completions", R"({"prompt":"x","stream":true})");
    ASSERT_EQ(s.status, 200);
    std::vector<std::string> events = drain(s);
    ASSERT_EQ(events.size(), 2u);
    EXPECT_EQ(json::parse(events[0])["error"]["code"], 413);
    EXPECT_EQ(events[1], "[DONE]");
}

TEST_F(ApiServiceCompletionTest, RequiresAnApiKeyWhenAuthIsOn) {
    ScriptedModel model;
    open(&model, {{"secret-key-1", {"*"}}});
    EXPECT_EQ(post("/v1/completions", R"({"prompt":"x"})").status, 401);
    HttpRequest r{"POST", "/v1/completions", {{"authorization", "Bearer secret-key-1"}}, R"({"prompt":"x"})"};
    EXPECT_EQ(service_->handle(r).status, 200);
}

}  // namespace
}  // namespace kasten::api
