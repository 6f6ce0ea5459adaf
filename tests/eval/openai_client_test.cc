#include "llm/openai_client.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>

#include "fake_chat_server.h"

namespace kasten::llm {
namespace {

using eval::testing::FakeChatServer;
using eval::testing::FakeResponse;
using eval::testing::RecordedRequest;

OpenAiClientOptions options_for(const FakeChatServer& server) {
    OpenAiClientOptions o;
    o.base_url = server.base_url();
    o.model = "test-model";
    o.api_key_env = "";
    o.initial_backoff_ms = 1;
    o.max_backoff_ms = 5;
    o.max_retries = 2;
    o.request_timeout_ms = 10000;
    return o;
}

std::unique_ptr<OpenAiClient> make(OpenAiClientOptions o) {
    auto c = OpenAiClient::create(std::move(o));
    EXPECT_TRUE(c.is_ok()) << c.status().to_string();
    return std::move(c).value();
}

TEST(OpenAiClientTest, ResolvesBaseUrls) {
    EXPECT_EQ(OpenAiClient::resolve_base_url("http://127.0.0.1:8080"), "http://127.0.0.1:8080/v1");
    EXPECT_EQ(OpenAiClient::resolve_base_url("http://127.0.0.1:8080/"), "http://127.0.0.1:8080/v1");
    EXPECT_EQ(OpenAiClient::resolve_base_url("https://api.openai.com/v1/"), "https://api.openai.com/v1");
    EXPECT_EQ(OpenAiClient::resolve_base_url("http://h/api/openai/v1"), "http://h/api/openai/v1");
}

TEST(OpenAiClientTest, CreateRejectsBadOptions) {
    OpenAiClientOptions o;
    o.base_url = "http://127.0.0.1:1/v1";
    EXPECT_EQ(OpenAiClient::create(o).status().code(), StatusCode::kInvalidArgument);  // no model
    o.model = "m";
    o.base_url = "ftp://x";
    EXPECT_EQ(OpenAiClient::create(o).status().code(), StatusCode::kInvalidArgument);
    o.base_url = "http://x";
    o.max_retries = -1;
    EXPECT_EQ(OpenAiClient::create(o).status().code(), StatusCode::kInvalidArgument);
}

TEST(OpenAiClientTest, ChatPostsTheOpenAiShapeWithTheKeyFromTheEnvironment) {
    FakeChatServer server([](const RecordedRequest&) { return FakeChatServer::chat_reply("Hello there"); });
    ::setenv("KASTEN_TEST_OPENAI_KEY", "sk-test-123", 1);
    auto o = options_for(server);
    o.api_key_env = "KASTEN_TEST_OPENAI_KEY";
    auto client = make(o);
    EXPECT_EQ(client->id(), "openai:test-model");
    GenerationOptions g;
    g.max_tokens = 10;
    g.stop = {"\n"};
    auto out = client->chat({{"system", "be brief"}, {"user", "hi"}}, g);
    ::unsetenv("KASTEN_TEST_OPENAI_KEY");
    ASSERT_TRUE(out.is_ok()) << out.status().to_string();
    EXPECT_EQ(out->text, "Hello there");
    EXPECT_EQ(out->finish_reason, "stop");
    EXPECT_EQ(out->prompt_tokens, 10);
    EXPECT_EQ(out->completion_tokens, 5);
    const auto reqs = server.requests();
    ASSERT_EQ(reqs.size(), 1u);
    EXPECT_EQ(reqs[0].path, "/v1/chat/completions");
    EXPECT_EQ(reqs[0].authorization, "Bearer sk-test-123");
    EXPECT_EQ(reqs[0].body["model"], "test-model");
    EXPECT_EQ(reqs[0].body["max_tokens"], 10);
    EXPECT_EQ(reqs[0].body["temperature"], 0.0);
    EXPECT_EQ(reqs[0].body["stop"], nlohmann::json::array({"\n"}));
    EXPECT_FALSE(reqs[0].body.contains("stream"));
    EXPECT_FALSE(reqs[0].body.contains("top_p"));
    ASSERT_EQ(reqs[0].body["messages"].size(), 2u);
    EXPECT_EQ(reqs[0].body["messages"][0]["role"], "system");
    EXPECT_EQ(reqs[0].body["messages"][1]["content"], "hi");
    EXPECT_EQ(client->stats().requests, 1);
}

TEST(OpenAiClientTest, NoKeyMeansNoAuthorizationHeader) {
    FakeChatServer server([](const RecordedRequest&) { return FakeChatServer::chat_reply("ok"); });
    auto client = make(options_for(server));
    ASSERT_TRUE(client->chat({{"user", "x"}}, {}).is_ok());
    EXPECT_EQ(server.requests().at(0).authorization, "");
}

TEST(OpenAiClientTest, CompletePostsToCompletions) {
    FakeChatServer server([](const RecordedRequest&) { return FakeChatServer::completion_reply(" upon a time"); });
    auto client = make(options_for(server));
    auto out = client->complete("Once", {});
    ASSERT_TRUE(out.is_ok()) << out.status().to_string();
    EXPECT_EQ(out->text, " upon a time");
    EXPECT_EQ(server.requests().at(0).path, "/v1/completions");
    EXPECT_EQ(server.requests().at(0).body["prompt"], "Once");
}

TEST(OpenAiClientTest, RetriesA503ThenSucceeds) {
    std::atomic<int> calls{0};
    FakeChatServer server([&](const RecordedRequest&) {
        return calls++ == 0 ? FakeChatServer::error(503, "overloaded") : FakeChatServer::chat_reply("second time");
    });
    auto client = make(options_for(server));
    auto out = client->chat({{"user", "x"}}, {});
    ASSERT_TRUE(out.is_ok()) << out.status().to_string();
    EXPECT_EQ(out->text, "second time");
    EXPECT_EQ(server.request_count(), 2);
    EXPECT_EQ(client->stats().retries, 1);
}

TEST(OpenAiClientTest, RetriesA429UntilTheLimitThenResourceExhausted) {
    FakeChatServer server([](const RecordedRequest&) {
        FakeResponse r = FakeChatServer::error(429, "slow down");
        r.headers["Retry-After"] = "0";
        return r;
    });
    auto client = make(options_for(server));  // max_retries 2
    auto out = client->chat({{"user", "x"}}, {});
    EXPECT_EQ(out.status().code(), StatusCode::kResourceExhausted);
    EXPECT_NE(out.status().message().find("slow down"), std::string::npos);
    EXPECT_EQ(server.request_count(), 3);
}

TEST(OpenAiClientTest, MapsClientErrorsWithoutRetrying) {
    struct Case {
        int http;
        StatusCode code;
    };
    for (const Case c : {Case{401, StatusCode::kUnauthenticated}, Case{403, StatusCode::kPermissionDenied},
                         Case{404, StatusCode::kNotFound}, Case{400, StatusCode::kInvalidArgument}}) {
        FakeChatServer server([&](const RecordedRequest&) { return FakeChatServer::error(c.http, "nope"); });
        auto client = make(options_for(server));
        auto out = client->chat({{"user", "x"}}, {});
        EXPECT_EQ(out.status().code(), c.code) << c.http;
        EXPECT_EQ(server.request_count(), 1) << c.http;
        EXPECT_NE(out.status().message().find("HTTP " + std::to_string(c.http)), std::string::npos);
    }
}

TEST(OpenAiClientTest, PersistentServerErrorIsInternalAfterRetries) {
    FakeChatServer server([](const RecordedRequest&) { return FakeChatServer::error(500, "boom"); });
    auto client = make(options_for(server));
    EXPECT_EQ(client->chat({{"user", "x"}}, {}).status().code(), StatusCode::kInternal);
    EXPECT_EQ(server.request_count(), 3);
}

TEST(OpenAiClientTest, MalformedResponseIsInternal) {
    FakeChatServer server([](const RecordedRequest&) {
        FakeResponse r;
        r.body = "{not json";
        return r;
    });
    auto client = make(options_for(server));
    EXPECT_EQ(client->chat({{"user", "x"}}, {}).status().code(), StatusCode::kInternal);
}

TEST(OpenAiClientTest, UnreachableServerIsIoErrorAfterRetries) {
    int port = 0;
    {
        FakeChatServer server([](const RecordedRequest&) { return FakeChatServer::chat_reply(""); });
        port = server.port();
    }
    OpenAiClientOptions o;
    o.base_url = "http://127.0.0.1:" + std::to_string(port) + "/v1";
    o.model = "m";
    o.api_key_env = "";
    o.max_retries = 1;
    o.initial_backoff_ms = 1;
    o.connect_timeout_ms = 2000;
    auto client = make(o);
    auto out = client->chat({{"user", "x"}}, {});
    EXPECT_EQ(out.status().code(), StatusCode::kIOError);
    EXPECT_EQ(client->stats().requests, 2);
}

TEST(OpenAiClientTest, StreamsServerSentEvents) {
    const std::string sse =
        "data: {\"choices\":[{\"delta\":{\"role\":\"assistant\"}}]}\n\n"
        "data: {\"choices\":[{\"delta\":{\"content\":\"Hel\"}}]}\n\n"
        ": keep-alive comment\n\n"
        "data: {\"choices\":[{\"delta\":{\"content\":\"lo\"},\"finish_reason\":\"stop\"}]}\n\n"
        "data: [DONE]\n\n";
    FakeChatServer server([&](const RecordedRequest&) {
        FakeResponse r;
        r.body = sse;
        r.content_type = "text/event-stream";
        return r;
    });
    auto client = make(options_for(server));
    std::vector<std::string> pieces;
    auto out = client->chat({{"user", "x"}}, {}, [&](std::string_view p) {
        pieces.emplace_back(p);
        return true;
    });
    ASSERT_TRUE(out.is_ok()) << out.status().to_string();
    EXPECT_EQ(out->text, "Hello");
    EXPECT_EQ(out->finish_reason, "stop");
    EXPECT_EQ(pieces, (std::vector<std::string>{"Hel", "lo"}));
    EXPECT_EQ(server.requests().at(0).body["stream"], true);
    EXPECT_EQ(server.requests().at(0).body["stream_options"]["include_usage"], true);

    // The callback can stop the generation.
    pieces.clear();
    auto stopped = client->chat({{"user", "x"}}, {}, [&](std::string_view p) {
        pieces.emplace_back(p);
        return false;
    });
    ASSERT_TRUE(stopped.is_ok()) << stopped.status().to_string();
    EXPECT_EQ(stopped->text, "Hel");
    EXPECT_EQ(pieces.size(), 1u);
}

TEST(OpenAiClientTest, JsonSchemaBecomesResponseFormat) {
    FakeChatServer server([](const RecordedRequest&) { return FakeChatServer::chat_reply("{}"); });
    auto client = make(options_for(server));
    GenerationOptions g;
    g.json_schema = R"({"type":"object"})";
    ASSERT_TRUE(client->chat({{"user", "x"}}, g).is_ok());
    const auto body = server.requests().at(0).body;
    EXPECT_EQ(body["response_format"]["type"], "json_schema");
    EXPECT_EQ(body["response_format"]["json_schema"]["schema"]["type"], "object");
    g.json_schema = "{broken";
    EXPECT_EQ(client->chat({{"user", "x"}}, g).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace kasten::llm
