#include "api/http/openai_response.h"

#include <span>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace kasten::api {
namespace {

using nlohmann::json;

// The JSON of one "data: {...}\n\n" event.
json event_json(const std::string& event) {
    EXPECT_EQ(event.rfind("data: ", 0), 0u) << event;
    EXPECT_GE(event.size(), 8u);
    EXPECT_EQ(event.substr(event.size() - 2), "\n\n") << event;
    return json::parse(event.substr(6, event.size() - 8));
}

llm::Generation generation() {
    llm::Generation g;
    g.text = "Hello there";
    g.prompt_tokens = 5;
    g.completion_tokens = 3;
    g.finish_reason = "length";
    return g;
}

TEST(OpenAiResponseTest, SseFraming) {
    EXPECT_EQ(sse_data(R"({"a":1})"), "data: {\"a\":1}\n\n");
    EXPECT_EQ(sse_done(), "data: [DONE]\n\n");
}

TEST(OpenAiResponseTest, ChatCompletionBody) {
    const CompletionMeta meta{CompletionKind::kChat, "chatcmpl-1", 1700000000, "gguf:m"};
    json j = json::parse(completion_body(meta, generation()));
    EXPECT_EQ(j["id"], "chatcmpl-1");
    EXPECT_EQ(j["object"], "chat.completion");
    EXPECT_EQ(j["created"], 1700000000);
    EXPECT_EQ(j["model"], "gguf:m");
    ASSERT_EQ(j["choices"].size(), 1u);
    EXPECT_EQ(j["choices"][0]["index"], 0);
    EXPECT_EQ(j["choices"][0]["message"]["role"], "assistant");
    EXPECT_EQ(j["choices"][0]["message"]["content"], "Hello there");
    EXPECT_EQ(j["choices"][0]["finish_reason"], "length");
    EXPECT_EQ(j["usage"]["prompt_tokens"], 5);
    EXPECT_EQ(j["usage"]["completion_tokens"], 3);
    EXPECT_EQ(j["usage"]["total_tokens"], 8);
}

TEST(OpenAiResponseTest, ChatStreamChunks) {
    const CompletionMeta meta{CompletionKind::kChat, "chatcmpl-2", 1700000000, "gguf:m"};
    json start = event_json(stream_start_event(meta));
    EXPECT_EQ(start["object"], "chat.completion.chunk");
    EXPECT_EQ(start["choices"][0]["delta"]["role"], "assistant");
    EXPECT_TRUE(start["choices"][0]["finish_reason"].is_null());

    json piece = event_json(stream_piece_event(meta, "Hel\"lo\n"));
    EXPECT_EQ(piece["id"], "chatcmpl-2");
    EXPECT_EQ(piece["choices"][0]["delta"]["content"], "Hel\"lo\n");
    EXPECT_FALSE(piece["choices"][0]["delta"].contains("role"));
    EXPECT_TRUE(piece["choices"][0]["finish_reason"].is_null());

    json finish = event_json(stream_finish_event(meta, generation()));
    EXPECT_TRUE(finish["choices"][0]["delta"].empty());
    EXPECT_EQ(finish["choices"][0]["finish_reason"], "length");
    EXPECT_FALSE(finish.contains("usage"));  // as in the OpenAI API: usage only with stream_options.include_usage

    json usage = event_json(stream_usage_event(meta, generation()));
    EXPECT_EQ(usage["object"], "chat.completion.chunk");
    EXPECT_EQ(usage["id"], "chatcmpl-2");
    EXPECT_TRUE(usage["choices"].is_array());
    EXPECT_TRUE(usage["choices"].empty());
    EXPECT_EQ(usage["usage"]["prompt_tokens"], 5);
    EXPECT_EQ(usage["usage"]["total_tokens"], 8);
}

llm::Generation with_logprobs() {
    llm::Generation g = generation();
    g.logprobs = {{"Hello", -0.25, {{"Hello", -0.25}, {"Hi", -1.5}}, 0},
                  {std::string(" \xE2\x82", 3), -0.5, {{std::string(" \xE2\x82", 3), -0.5}}, 5}};
    return g;
}

TEST(OpenAiResponseTest, ChatLogprobsInOpenAiShape) {
    CompletionMeta meta{CompletionKind::kChat, "chatcmpl-4", 1, "gguf:m"};
    json plain = json::parse(completion_body(meta, with_logprobs()));
    EXPECT_TRUE(plain["choices"][0]["logprobs"].is_null());  // not asked for

    meta.logprobs = true;
    json j = json::parse(completion_body(meta, with_logprobs()));
    const json& content = j["choices"][0]["logprobs"]["content"];
    ASSERT_EQ(content.size(), 2u);
    EXPECT_EQ(content[0]["token"], "Hello");
    EXPECT_DOUBLE_EQ(content[0]["logprob"].get<double>(), -0.25);
    EXPECT_EQ(content[0]["bytes"], json({72, 101, 108, 108, 111}));
    ASSERT_EQ(content[0]["top_logprobs"].size(), 2u);
    EXPECT_EQ(content[0]["top_logprobs"][1]["token"], "Hi");
    EXPECT_DOUBLE_EQ(content[0]["top_logprobs"][1]["logprob"].get<double>(), -1.5);
    EXPECT_EQ(content[0]["top_logprobs"][1]["bytes"], json({72, 105}));
    // Part of a UTF-8 character: the token text is repaired, the bytes are exact.
    EXPECT_EQ(content[1]["bytes"], json({32, 0xE2, 0x82}));
    EXPECT_TRUE(j["choices"][0]["logprobs"]["refusal"].is_null());

    const llm::Generation g = with_logprobs();
    json piece = event_json(stream_piece_event(meta, "Hello", std::span<const llm::TokenLogprob>(g.logprobs).first(1)));
    ASSERT_EQ(piece["choices"][0]["logprobs"]["content"].size(), 1u);
    EXPECT_EQ(piece["choices"][0]["logprobs"]["content"][0]["token"], "Hello");
    json finish = event_json(stream_finish_event(meta, g));
    EXPECT_TRUE(finish["choices"][0]["logprobs"].is_null());
}

TEST(OpenAiResponseTest, TextCompletionLogprobsInLegacyShape) {
    CompletionMeta meta{CompletionKind::kText, "cmpl-5", 1, "gguf:m"};
    meta.logprobs = true;
    json j = json::parse(completion_body(meta, with_logprobs()));
    const json& lp = j["choices"][0]["logprobs"];
    EXPECT_EQ(lp["tokens"][0], "Hello");
    EXPECT_DOUBLE_EQ(lp["token_logprobs"][1].get<double>(), -0.5);
    EXPECT_DOUBLE_EQ(lp["top_logprobs"][0]["Hi"].get<double>(), -1.5);
    EXPECT_EQ(lp["text_offset"], json({0, 5}));
}

TEST(OpenAiResponseTest, TextCompletionShapes) {
    const CompletionMeta meta{CompletionKind::kText, "cmpl-3", 1, "gguf:m"};
    EXPECT_EQ(stream_start_event(meta), "");
    json body = json::parse(completion_body(meta, generation()));
    EXPECT_EQ(body["object"], "text_completion");
    EXPECT_EQ(body["choices"][0]["text"], "Hello there");
    json piece = event_json(stream_piece_event(meta, " there"));
    EXPECT_EQ(piece["object"], "text_completion");
    EXPECT_EQ(piece["choices"][0]["text"], " there");
    json finish = event_json(stream_finish_event(meta, generation()));
    EXPECT_EQ(finish["choices"][0]["text"], "");
    EXPECT_EQ(finish["choices"][0]["finish_reason"], "length");
}

TEST(OpenAiResponseTest, InvalidUtf8IsReplacedAndErrorsUseTheStandardBody) {
    const CompletionMeta meta{CompletionKind::kChat, "c", 1, "m"};
    json piece = event_json(stream_piece_event(meta, std::string("a\xff", 2)));
    EXPECT_EQ(piece["choices"][0]["delta"]["content"], "a\xEF\xBF\xBD");
    json error = event_json(stream_error_event(413, Status::resource_exhausted("prompt too long")));
    EXPECT_EQ(error["error"]["code"], 413);
    EXPECT_EQ(error["error"]["type"], "resource_exhausted");
    EXPECT_EQ(error["error"]["message"], "prompt too long");
}

}  // namespace
}  // namespace kasten::api
