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
    expect_bad(chat(R"("n":2)"), "field 'n': only 1 is supported");
    expect_bad(chat(R"("top_k":2)"), "unknown field 'top_k'");
    expect_bad(chat(R"("service_level":"x")"), "unknown field 'service_level'");
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
               "messages[0].tool_call_id");
    expect_bad(parse_chat_completion_request(R"({"messages":[{"role":"robot","content":"x"}]})", kLimits),
               "messages[0].role");
    expect_bad(parse_chat_completion_request(R"({"messages":[{"role":"user"}]})", kLimits), "messages[0].content");
    expect_bad(parse_chat_completion_request(R"({"messages":[{"role":"user","content":"x","nick":"a"}]})", kLimits),
               "unknown field 'messages[0].nick'");
    expect_bad(parse_chat_completion_request(R"({"messages":[{"role":"user","content":["x"]}]})", kLimits),
               "messages[0].content");
    expect_bad(parse_chat_completion_request("[1]", kLimits), "JSON object");
    expect_bad(parse_chat_completion_request("{", kLimits), "not valid JSON");
    expect_bad(parse_chat_completion_request("", kLimits), "empty");

    expect_bad(parse_completion_request(R"({"messages":[]})", kLimits), "unknown field 'messages'");
    expect_bad(parse_completion_request(R"({"model":"m"})", kLimits), "prompt");
    expect_bad(parse_completion_request(R"({"prompt":["a","b"]})", kLimits), "prompt");
    expect_bad(parse_completion_request(R"({"prompt":[1,2]})", kLimits), "token-id prompts");
}

TEST(OpenAiRequestTest, AcceptsEveryOpenAiChatField) {
    Result<CompletionRequest> r = parse_chat_completion_request(
        R"({"model":"gpt-4o","messages":[
              {"role":"developer","content":"Be brief.","name":"ops"},
              {"role":"user","content":[{"type":"text","text":"Hello"},{"type":"text","text":"there"}],"name":"ann"},
              {"role":"assistant","content":null,"tool_calls":[],"refusal":null},
              {"role":"tool","content":"42","tool_call_id":"call_1"},
              {"role":"assistant","content":[{"type":"text","text":"Sure"},{"type":"refusal","refusal":"no"}]}],
            "audio":null,"frequency_penalty":0.5,"function_call":"auto","functions":[],"logit_bias":{"17":-100,"3":2.5},
            "logprobs":true,"top_logprobs":5,"max_completion_tokens":30,"max_tokens":40,
            "metadata":{"team":"a","run":"7"},"modalities":["text"],"moderation":null,"n":1,"parallel_tool_calls":true,
            "prediction":{"type":"content","content":"x"},"presence_penalty":-0.5,"prompt_cache_key":"k",
            "prompt_cache_options":null,"prompt_cache_retention":"24h","reasoning_effort":"low",
            "response_format":{"type":"text"},"safety_identifier":"h","seed":3,"service_tier":"auto","stop":null,
            "store":false,"stream":true,"stream_options":{"include_usage":true,"include_obfuscation":false},
            "temperature":0,"tool_choice":"none","tools":[],"top_p":1,"user":"user-42","verbosity":"low",
            "web_search_options":null})",
        kLimits);
    ASSERT_TRUE(r.is_ok()) << r.status().to_string();
    ASSERT_EQ(r->messages.size(), 5u);
    EXPECT_EQ(r->messages[0].role, "system");  // developer = system
    EXPECT_EQ(r->messages[1].content, "Hello\nthere");
    EXPECT_EQ(r->messages[2].role, "assistant");
    EXPECT_EQ(r->messages[2].content, "");
    EXPECT_EQ(r->messages[3].role, "tool");
    EXPECT_EQ(r->messages[3].content, "42");
    EXPECT_EQ(r->messages[4].content, "Sure\nno");
    EXPECT_EQ(r->options.max_tokens, 30);  // the smaller of max_tokens and max_completion_tokens
    EXPECT_DOUBLE_EQ(r->options.frequency_penalty, 0.5);
    EXPECT_DOUBLE_EQ(r->options.presence_penalty, -0.5);
    EXPECT_EQ(r->options.logit_bias, (std::vector<std::pair<int, double>>{{17, -100.0}, {3, 2.5}}));
    EXPECT_TRUE(r->options.logprobs);
    EXPECT_EQ(r->options.top_logprobs, 5);
    EXPECT_TRUE(r->stream);
    EXPECT_TRUE(r->include_usage);
    EXPECT_EQ(r->user, "user-42");
    EXPECT_EQ(r->metadata, (std::map<std::string, std::string>{{"run", "7"}, {"team", "a"}}));
    EXPECT_FALSE(r->options.json_schema.has_value());

    Result<CompletionRequest> only = parse_chat_completion_request(
        R"({"messages":[{"role":"user","content":"x"}],"max_completion_tokens":7})", kLimits);
    ASSERT_TRUE(only.is_ok()) << only.status().to_string();
    EXPECT_EQ(only->options.max_tokens, 7);
    EXPECT_FALSE(only->include_usage);
    EXPECT_FALSE(only->options.logprobs);
}

TEST(OpenAiRequestTest, ResponseFormatSelectsConstrainedDecoding) {
    const std::string msg = R"({"messages":[{"role":"user","content":"x"}],)";
    Result<CompletionRequest> object =
        parse_chat_completion_request(msg + R"("response_format":{"type":"json_object"}})", kLimits);
    ASSERT_TRUE(object.is_ok()) << object.status().to_string();
    EXPECT_EQ(object->options.json_schema, std::optional<std::string>(R"({"type":"object"})"));

    Result<CompletionRequest> schema = parse_chat_completion_request(
        msg + R"("response_format":{"type":"json_schema","json_schema":{"name":"pet","strict":true,
                 "schema":{"type":"object","properties":{"name":{"type":"string"}},"required":["name"],
                           "additionalProperties":false}}}})",
        kLimits);
    ASSERT_TRUE(schema.is_ok()) << schema.status().to_string();
    ASSERT_TRUE(schema->options.json_schema.has_value());
    EXPECT_NE(schema->options.json_schema->find("\"required\":[\"name\"]"), std::string::npos);

    expect_bad(parse_chat_completion_request(msg + R"("response_format":{"type":"yaml"}})", kLimits),
               "response_format.type");
    expect_bad(parse_chat_completion_request(msg + R"("response_format":{"type":"json_schema"}})", kLimits),
               "response_format.json_schema");
    expect_bad(parse_chat_completion_request(
                   msg + R"("response_format":{"type":"json_schema","json_schema":{"schema":{}}}})", kLimits),
               "response_format.json_schema.name");
    expect_bad(
        parse_chat_completion_request(
            msg + R"("response_format":{"type":"json_schema","json_schema":{"name":"a","schema":{"type":"frog"}}}})",
            kLimits),
        "response_format.json_schema.schema");
    expect_bad(parse_chat_completion_request(msg + R"("response_format":{"type":"json_object","x":1}})", kLimits),
               "unknown field 'response_format.x'");
}

TEST(OpenAiRequestTest, RefusesWhatCannotBeHonoured) {
    const std::string msg = R"({"messages":[{"role":"user","content":"x"}],)";
    auto chat = [&](const std::string& extra) { return parse_chat_completion_request(msg + extra + "}", kLimits); };
    expect_bad(chat(R"("tools":[{"type":"function","function":{"name":"f"}}])"), "tool-calling format");
    expect_bad(chat(R"("functions":[{"name":"f"}])"), "tool-calling format");
    expect_bad(chat(R"("tool_choice":"required")"), "tool_choice");
    expect_bad(chat(R"("tool_choice":{"type":"function","function":{"name":"f"}})"), "tool_choice");
    expect_bad(chat(R"("n":0)"), "field 'n'");
    expect_bad(chat(R"("audio":{"voice":"alloy","format":"mp3"})"), "audio");
    expect_bad(chat(R"("modalities":["text","audio"])"), "modalities");
    expect_bad(chat(R"("web_search_options":{})"), "web_search_options");
    expect_bad(chat(R"("top_logprobs":2)"), "requires logprobs");
    expect_bad(chat(R"("logprobs":true,"top_logprobs":21)"), "top_logprobs");
    expect_bad(chat(R"("frequency_penalty":2.5)"), "frequency_penalty");
    expect_bad(chat(R"("presence_penalty":"1")"), "presence_penalty");
    expect_bad(chat(R"("logit_bias":{"abc":1})"), "logit_bias.abc");
    expect_bad(chat(R"("logit_bias":{"5":101})"), "logit_bias.5");
    expect_bad(chat(R"("logit_bias":[1])"), "logit_bias");
    expect_bad(chat(R"("stream_options":{"include_usage":true})"), "only allowed when stream is true");
    expect_bad(chat(R"("stream":true,"stream_options":{"include_usage":1})"), "stream_options.include_usage");
    expect_bad(chat(R"("stream":true,"stream_options":{"usage":true})"), "unknown field 'stream_options.usage'");
    expect_bad(chat(R"("max_completion_tokens":101)"), "max_completion_tokens");
    expect_bad(chat(R"("metadata":{"a":1})"), "metadata.a");
    expect_bad(chat(R"("user":7)"), "user");
    expect_bad(chat(R"("store":"yes")"), "store");
    expect_bad(
        parse_chat_completion_request(
            R"({"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"x"}}]}]})", kLimits),
        "not supported");
    expect_bad(
        parse_chat_completion_request(R"({"messages":[{"role":"user","content":"x","tool_calls":[]}]})", kLimits),
        "only allowed on assistant messages");
}

TEST(OpenAiRequestTest, LegacyCompletionFields) {
    Result<CompletionRequest> r = parse_completion_request(
        R"({"model":"m","prompt":["Once"],"best_of":1,"echo":true,"frequency_penalty":1,"logit_bias":{"1":1},
            "max_tokens":5,"n":1,"presence_penalty":1,"seed":1,"stop":"x","stream":true,
            "stream_options":{"include_usage":true},"suffix":"","temperature":1,"top_p":0.5,"user":"u"})",
        kLimits);
    ASSERT_TRUE(r.is_ok()) << r.status().to_string();
    EXPECT_EQ(r->prompt, "Once");
    EXPECT_TRUE(r->echo);
    EXPECT_TRUE(r->include_usage);
    EXPECT_EQ(r->user, "u");
    EXPECT_FALSE(r->options.logprobs);

    Result<CompletionRequest> lp = parse_completion_request(R"({"prompt":"Once","logprobs":3})", kLimits);
    ASSERT_TRUE(lp.is_ok()) << lp.status().to_string();
    EXPECT_TRUE(lp->options.logprobs);
    EXPECT_EQ(lp->options.top_logprobs, 3);

    expect_bad(parse_completion_request(R"({"prompt":"x","logprobs":6})", kLimits), "logprobs");
    expect_bad(parse_completion_request(R"({"prompt":"x","logprobs":true})", kLimits), "logprobs");
    expect_bad(parse_completion_request(R"({"prompt":"x","logprobs":1,"echo":true})", kLimits), "echo");
    expect_bad(parse_completion_request(R"({"prompt":"x","best_of":3})", kLimits), "best_of");
    expect_bad(parse_completion_request(R"({"prompt":"x","suffix":"end"})", kLimits), "suffix");
    expect_bad(parse_completion_request(R"({"prompt":"x","response_format":{"type":"text"}})", kLimits),
               "unknown field 'response_format'");
    expect_bad(parse_completion_request(R"({"prompt":"x","max_completion_tokens":3})", kLimits),
               "unknown field 'max_completion_tokens'");
}

// Found by tests/fuzz/openai_request_fuzz: a number too large for a double escaped the parser as an exception.
TEST(OpenAiRequestTest, NumbersOutOfRangeAreInvalidArguments) {
    expect_bad(
        parse_chat_completion_request(R"({"messages":[{"role":"user","content":"x"}],"temperature":1e999})", kLimits),
        "not valid JSON");
    expect_bad(parse_completion_request(R"({"prompt":"x","max_tokens":2e400})", kLimits), "not valid JSON");
}

}  // namespace
}  // namespace kasten::api
