#include "api/http/openai_request.h"

#include <gtest/gtest.h>

namespace kasten::api {
namespace {

const CompletionLimits kLimits{/*max_tokens=*/100, /*default_max_tokens=*/16};

// The request is rejected as kInvalidArgument with a message containing `needle`.
void expect_bad(const Result<CompletionRequest>& r, const std::string& needle) {
    ASSERT_FALSE(r.is_ok()) << "accepted, expected an error containing '" << needle << "'";
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(r.status().message().find(needle), std::string::npos) << r.status().message();
}

TEST(OpenAiRequestTest, ParsesEveryChatField) {
    Result<CompletionRequest> r = parse_chat_completion_request(
        R"({"model":"m","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"Hi"}],
            "max_tokens":42,"temperature":0.5,"top_p":0.9,"stream":true,"stop":["\n","END"],"seed":7})",
        kLimits);
    ASSERT_TRUE(r.is_ok()) << r.status().to_string();
    EXPECT_EQ(r->model, "m");
    ASSERT_EQ(r->messages.size(), 2u);
    EXPECT_EQ(r->messages[0].role, "system");
    EXPECT_EQ(r->messages[1].content, "Hi");
    EXPECT_EQ(r->options.max_tokens, 42);
    EXPECT_DOUBLE_EQ(r->options.temperature, 0.5);
    EXPECT_DOUBLE_EQ(r->options.top_p, 0.9);
    EXPECT_TRUE(r->stream);
    EXPECT_EQ(r->options.stop, (std::vector<std::string>{"\n", "END"}));
    EXPECT_EQ(r->options.seed, 7u);
}

TEST(OpenAiRequestTest, DefaultsAndNullsCountAsAbsent) {
    Result<CompletionRequest> r = parse_chat_completion_request(
        R"({"messages":[{"role":"user","content":"Hi"}],"model":null,"stop":null,"stream":null})", kLimits);
    ASSERT_TRUE(r.is_ok()) << r.status().to_string();
    EXPECT_EQ(r->model, "");
    EXPECT_EQ(r->options.max_tokens, 16);
    EXPECT_DOUBLE_EQ(r->options.temperature, 1.0);
    EXPECT_DOUBLE_EQ(r->options.top_p, 1.0);
    EXPECT_FALSE(r->stream);
    EXPECT_TRUE(r->options.stop.empty());

    Result<CompletionRequest> single = parse_completion_request(R"({"prompt":"Once","stop":"."})", kLimits);
    ASSERT_TRUE(single.is_ok()) << single.status().to_string();
    EXPECT_EQ(single->prompt, "Once");
    EXPECT_EQ(single->options.stop, (std::vector<std::string>{"."}));
}

TEST(OpenAiRequestTest, RejectsUnknownFieldsAndBadValues) {
    const std::string msg = R"("messages":[{"role":"user","content":"Hi"}])";
    auto chat = [&](const std::string& extra) {
        return parse_chat_completion_request("{" + msg + (extra.empty() ? "" : "," + extra) + "}", kLimits);
    };
    expect_bad(chat(R"("n":2)"), "unknown field 'n'");
    expect_bad(chat(R"("max_tokens":101)"), "max_tokens");
    expect_bad(chat(R"("max_tokens":0)"), "max_tokens");
    expect_bad(chat(R"("max_tokens":1.5)"), "max_tokens");
    expect_bad(chat(R"("temperature":2.5)"), "temperature");
    expect_bad(chat(R"("temperature":"0")"), "temperature");
    expect_bad(chat(R"("top_p":0)"), "top_p");
    expect_bad(chat(R"("stream":"yes")"), "stream");
    expect_bad(chat(R"("seed":-1)"), "seed");
    expect_bad(chat(R"("stop":["a","b","c","d","e"])"), "stop");
    expect_bad(chat(R"("stop":[""])"), "stop");
    expect_bad(chat(R"("stop":3)"), "stop");
    expect_bad(chat(R"("model":3)"), "model");

    expect_bad(parse_chat_completion_request(R"({})", kLimits), "messages");
    expect_bad(parse_chat_completion_request(R"({"messages":[]})", kLimits), "messages");
    expect_bad(parse_chat_completion_request(R"({"messages":[{"role":"tool","content":"x"}]})", kLimits),
               "messages[0].role");
    expect_bad(parse_chat_completion_request(R"({"messages":[{"role":"user"}]})", kLimits), "messages[0].content");
    expect_bad(parse_chat_completion_request(R"({"messages":[{"role":"user","content":"x","name":"a"}]})", kLimits),
               "unknown field 'messages[0].name'");
    expect_bad(parse_chat_completion_request(R"({"messages":[{"role":"user","content":["x"]}]})", kLimits),
               "messages[0].content");
    expect_bad(parse_chat_completion_request("[1]", kLimits), "JSON object");
    expect_bad(parse_chat_completion_request("{", kLimits), "not valid JSON");
    expect_bad(parse_chat_completion_request("", kLimits), "empty");

    expect_bad(parse_completion_request(R"({"messages":[]})", kLimits), "unknown field 'messages'");
    expect_bad(parse_completion_request(R"({"model":"m"})", kLimits), "prompt");
    expect_bad(parse_completion_request(R"({"prompt":["a"]})", kLimits), "prompt");
}

}  // namespace
}  // namespace kasten::api
