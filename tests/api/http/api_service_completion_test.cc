// The OpenAI-compatible routes of ApiService, with a scripted LanguageModel.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstring>

#include "api/http/api_service.h"
#include "llm/embedded_language_model.h"
#include "llm/hashing_embedder.h"
#include "tests/llm/stories_fixture.h"

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
            std::vector<llm::TokenLogprob> logprobs;
            if (options.logprobs) {
                logprobs.push_back({p, -0.5 * static_cast<double>(g.completion_tokens + 1), {}, g.text.size()});
                for (int k = 0; k < options.top_logprobs; ++k) logprobs.back().top.push_back({p, -0.1 * (k + 1)});
                g.logprobs.push_back(logprobs.back());
            }
            g.text += p;
            ++g.completion_tokens;
            if (on_token && !on_token(p, logprobs)) break;
        }
        return g;
    }
};

class ApiServiceCompletionTest : public ::testing::Test {
  protected:
    void open(llm::LanguageModel* model, std::map<std::string, std::vector<std::string>> keys = {}) {
        service_.reset();
        memory::MemoryOptions options;
        options.in_memory = true;
        options.embedder = std::make_shared<llm::HashingEmbedder>(64);
        auto m = memory::MemoryManager::open(std::move(options));
        ASSERT_TRUE(m.is_ok()) << m.status().to_string();
        memory_ = std::move(m).value();
        ApiServiceOptions o;
        o.version = "test";
        o.embedder_dim = 64;
        o.api_keys = api_keys_from_map(keys);
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

TEST_F(ApiServiceCompletionTest, StreamOptionsIncludeUsageAddsAUsageChunk) {
    ScriptedModel model;
    open(&model);
    HttpResponse r = post("/v1/chat/completions", R"({"messages":[{"role":"user","content":"Hi"}],"stream":true,
                                                     "stream_options":{"include_usage":true},"max_tokens":2})");
    ASSERT_EQ(r.status, 200) << r.body;
    std::vector<std::string> events = drain(r);
    ASSERT_EQ(events.size(), 1u + 2u + 1u + 1u + 1u);  // role, 2 pieces, finish, usage, [DONE]
    for (std::size_t i = 0; i < 4; ++i) EXPECT_FALSE(json::parse(events[i]).contains("usage")) << events[i];
    EXPECT_EQ(json::parse(events[3])["choices"][0]["finish_reason"], "length");
    json usage = json::parse(events[4]);
    EXPECT_TRUE(usage["choices"].empty());
    EXPECT_EQ(usage["usage"]["completion_tokens"], 2);
    EXPECT_EQ(usage["usage"]["total_tokens"], 5);
    EXPECT_EQ(events[5], "[DONE]");
}

TEST_F(ApiServiceCompletionTest, OptionsReachTheModelAndLogprobsComeBack) {
    ScriptedModel model;
    open(&model);
    HttpResponse r =
        post("/v1/chat/completions",
             R"({"messages":[{"role":"developer","content":"Be kind"},{"role":"user","content":"Hi"}],)"
             R"("max_completion_tokens":2,"frequency_penalty":0.5,"presence_penalty":1.5,"user":"ann",)"
             R"("logit_bias":{"7":-100},"logprobs":true,"top_logprobs":2,"store":true,"metadata":{"a":"b"},)"
             R"("response_format":{"type":"json_object"}})");
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(model.last_messages[0].role, "system");
    EXPECT_EQ(model.last_options.max_tokens, 2);
    EXPECT_DOUBLE_EQ(model.last_options.frequency_penalty, 0.5);
    EXPECT_DOUBLE_EQ(model.last_options.presence_penalty, 1.5);
    EXPECT_EQ(model.last_options.logit_bias, (std::vector<std::pair<int, double>>{{7, -100.0}}));
    EXPECT_EQ(model.last_options.json_schema, std::optional<std::string>(R"({"type":"object"})"));
    json j = json::parse(r.body);
    const json& content = j["choices"][0]["logprobs"]["content"];
    ASSERT_EQ(content.size(), 2u);
    EXPECT_EQ(content[1]["token"], " upon");
    EXPECT_DOUBLE_EQ(content[1]["logprob"].get<double>(), -1.0);
    EXPECT_EQ(content[1]["top_logprobs"].size(), 2u);

    // Streamed: each piece carries the log-probabilities of its tokens.
    HttpResponse s = post("/v1/completions", R"({"prompt":"Once","stream":true,"logprobs":1,"max_tokens":3})");
    std::vector<std::string> events = drain(s);
    ASSERT_EQ(events.size(), 3u + 1u + 1u);  // 3 pieces, finish, [DONE]
    EXPECT_EQ(json::parse(events[2])["choices"][0]["logprobs"]["tokens"], json({" a"}));
    EXPECT_EQ(json::parse(events[2])["choices"][0]["logprobs"]["text_offset"], json({9}));

    EXPECT_EQ(post("/v1/chat/completions", R"({"messages":[{"role":"user","content":"x"}],"n":2})").status, 400);
    HttpResponse tools = post("/v1/chat/completions", R"({"messages":[{"role":"user","content":"x"}],
                                 "tools":[{"type":"function","function":{"name":"f"}}]})");
    EXPECT_EQ(tools.status, 400);
    EXPECT_NE(tools.body.find("tool-calling"), std::string::npos) << tools.body;
}

TEST_F(ApiServiceCompletionTest, EchoPutsThePromptFirst) {
    ScriptedModel model;
    open(&model);
    HttpResponse r = post("/v1/completions", R"({"prompt":"Long ago","echo":true,"max_tokens":2})");
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(json::parse(r.body)["choices"][0]["text"], "Long agoOnce upon");
    std::vector<std::string> events =
        drain(post("/v1/completions", R"({"prompt":"Long ago","echo":true,"max_tokens":1,"stream":true})"));
    ASSERT_EQ(events.size(), 4u);  // prompt, 1 piece, finish, [DONE]
    EXPECT_EQ(json::parse(events[0])["choices"][0]["text"], "Long ago");
    EXPECT_EQ(json::parse(events[1])["choices"][0]["text"], "Once");
}

TEST_F(ApiServiceCompletionTest, ModelsListTheLanguageModelAndTheEmbedder) {
    ScriptedModel model;
    open(&model);
    HttpRequest list{"GET", "/v1/models", {}, ""};
    HttpResponse r = service_->handle(list);
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.route, "/v1/models");
    json j = json::parse(r.body);
    EXPECT_EQ(j["object"], "list");
    ASSERT_EQ(j["data"].size(), 2u);
    EXPECT_EQ(j["data"][0]["id"], "scripted:test");
    EXPECT_EQ(j["data"][0]["object"], "model");
    EXPECT_EQ(j["data"][0]["owned_by"], "kasten");
    EXPECT_GT(j["data"][0]["created"].get<std::int64_t>(), 1600000000);
    EXPECT_EQ(j["data"][1]["id"], memory_->embedder_id());

    HttpRequest one{"GET", "/v1/models/scripted:test", {}, ""};
    HttpResponse m = service_->handle(one);
    ASSERT_EQ(m.status, 200) << m.body;
    EXPECT_EQ(json::parse(m.body)["id"], "scripted:test");
    HttpRequest missing{"GET", "/v1/models/gpt-4o", {}, ""};
    HttpResponse absent = service_->handle(missing);
    EXPECT_EQ(absent.status, 404);
    EXPECT_NE(absent.body.find("scripted:test"), std::string::npos) << absent.body;

    open(nullptr);  // no language model: the embedder alone
    json only = json::parse(service_->handle(list).body);
    ASSERT_EQ(only["data"].size(), 1u);
    EXPECT_EQ(only["data"][0]["id"], memory_->embedder_id());
}

TEST_F(ApiServiceCompletionTest, EmbeddingsUseTheMemoryEmbedder) {
    open(nullptr);  // works without a language model
    const llm::HashingEmbedder reference(64);
    HttpResponse r =
        post("/v1/embeddings", R"({"model":"text-embedding-3-small","input":["red apples","green pears now"]})");
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.route, "/v1/embeddings");
    json j = json::parse(r.body);
    EXPECT_EQ(j["object"], "list");
    EXPECT_EQ(j["model"], reference.id());
    ASSERT_EQ(j["data"].size(), 2u);
    EXPECT_EQ(j["data"][1]["object"], "embedding");
    EXPECT_EQ(j["data"][1]["index"], 1);
    const std::vector<float> expected = reference.embed("green pears now");
    ASSERT_EQ(j["data"][1]["embedding"].size(), 64u);
    for (std::size_t d = 0; d < expected.size(); ++d) {
        EXPECT_FLOAT_EQ(j["data"][1]["embedding"][d].get<float>(), expected[d]);
    }
    EXPECT_EQ(j["usage"]["prompt_tokens"], 5);  // words
    EXPECT_EQ(j["usage"]["total_tokens"], 5);

    // base64: the little-endian float32 bytes.
    HttpResponse b = post("/v1/embeddings", R"({"input":"red apples","encoding_format":"base64","dimensions":64})");
    ASSERT_EQ(b.status, 200) << b.body;
    const std::string encoded = json::parse(b.body)["data"][0]["embedding"].get<std::string>();
    ASSERT_EQ(encoded.size(), (64u * 4u + 2u) / 3u * 4u);
    std::string bytes;
    auto value = [](char c) -> int {
        const char* alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        return c == '=' ? 0 : static_cast<int>(std::strchr(alphabet, c) - alphabet);
    };
    for (std::size_t i = 0; i + 4 <= encoded.size(); i += 4) {
        const int v = (value(encoded[i]) << 18) | (value(encoded[i + 1]) << 12) | (value(encoded[i + 2]) << 6) |
                      value(encoded[i + 3]);
        bytes += static_cast<char>((v >> 16) & 255);
        if (encoded[i + 2] != '=') bytes += static_cast<char>((v >> 8) & 255);
        if (encoded[i + 3] != '=') bytes += static_cast<char>(v & 255);
    }
    ASSERT_EQ(bytes.size(), 64u * 4u);
    const std::vector<float> apples = reference.embed("red apples");
    for (std::size_t d = 0; d < 64; ++d) {
        float f;
        std::memcpy(&f, bytes.data() + d * 4, 4);  // little-endian host (x86-64, aarch64)
        EXPECT_EQ(f, apples[d]) << d;
    }

    EXPECT_EQ(post("/v1/embeddings", R"({"input":"x","dimensions":32})").status, 400);
    EXPECT_EQ(post("/v1/embeddings", R"({"input":[1,2,3]})").status, 400);
    EXPECT_EQ(post("/v1/embeddings", R"({"input":""})").status, 400);
    EXPECT_EQ(post("/v1/embeddings", R"({"input":"x","encoding_format":"int8"})").status, 400);
    HttpResponse unknown = post("/v1/embeddings", R"({"input":"x","truncate":true})");
    EXPECT_EQ(unknown.status, 400);
    EXPECT_NE(unknown.body.find("unknown field 'truncate'"), std::string::npos) << unknown.body;
    HttpRequest get{"GET", "/v1/embeddings", {}, ""};
    EXPECT_EQ(service_->handle(get).status, 405);
}

TEST_F(ApiServiceCompletionTest, RequiresAnApiKeyWhenAuthIsOn) {
    ScriptedModel model;
    open(&model, {{"secret-key-1", {"*"}}});
    EXPECT_EQ(post("/v1/completions", R"({"prompt":"x"})").status, 401);
    HttpRequest r{"POST", "/v1/completions", {{"authorization", "Bearer secret-key-1"}}, R"({"prompt":"x"})"};
    EXPECT_EQ(service_->handle(r).status, 200);
}

TEST_F(ApiServiceCompletionTest, EmbeddedModelKeepsTheCubesPinnedPrefix) {
    llm::EmbeddedModelOptions mo;
    mo.model_path = llm::testing::stories_gguf();
    mo.n_ctx = 512;
    auto model = llm::EmbeddedLanguageModel::open(mo);
    ASSERT_TRUE(model.is_ok()) << model.status().to_string();
    open(model.value().get());
    auto ask = [&](const std::string& system) {
        HttpRequest r;
        r.method = "POST";
        r.target = "/v1/chat/completions";
        r.headers = {{"x-kasten-cube", "alice"}, {"x-kasten-conversation", "talk"}};
        r.body = json{
            {"messages", {{{"role", "system"}, {"content", system}}, {{"role", "user"}, {"content", "Hi"}}}},
            {"max_tokens", 2},
            {"temperature",
             0}}.dump();
        HttpResponse out = service_->handle(r);
        EXPECT_EQ(out.status, 200) << out.body;
    };
    const std::string system =
        "You tell short stories about a cat named Tom and a dog named Sam to small children. Every story has a happy "
        "ending, and the bird in the big tree sings a song.";
    ask(system);  // creates the cube: nothing to keep the prefix in yet
    ASSERT_TRUE(memory_->list_kv_segments("alice").is_ok());
    EXPECT_TRUE(memory_->list_kv_segments("alice")->empty());
    ask(system);
    auto first = memory_->list_kv_segments("alice").value();
    ASSERT_EQ(first.size(), 1u);
    EXPECT_NE(first[0].model_id.find("gguf:stories260K-tok512@"), std::string::npos) << first[0].model_id;
    ask(system + " The stories are short.");
    auto second = memory_->list_kv_segments("alice").value();
    ASSERT_EQ(second.size(), 1u);
    EXPECT_NE(second[0].text_hash, first[0].text_hash);
}

}  // namespace
}  // namespace kasten::api
