#include "llm/json_grammar.h"

#include <random>

#include <gtest/gtest.h>

#include "json_schema_check.h"

namespace kasten::llm {
namespace {

std::shared_ptr<const JsonSchema> schema_of(std::string_view text) {
    Result<JsonSchema> s = JsonSchema::parse(text);
    EXPECT_TRUE(s.is_ok()) << s.status().to_string();
    return std::make_shared<const JsonSchema>(std::move(s).value());
}

// Feeds `text` byte by byte; true iff every byte is accepted and the result is a complete value.
bool accepts_complete(const std::shared_ptr<const JsonSchema>& schema, std::string_view text) {
    JsonGrammar g(schema);
    for (char c : text) {
        if (!g.feed(static_cast<std::uint8_t>(c))) return false;
    }
    return g.is_complete();
}

constexpr const char* kPerson = R"({
    "type": "object", "additionalProperties": false,
    "properties": {
        "name": {"type": "string", "maxLength": 5},
        "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 2},
        "age": {"type": "integer"},
        "score": {"type": "number"},
        "ok": {"type": "boolean"},
        "mood": {"enum": ["happy", "sad", 1, 12, null]}
    },
    "required": ["name", "mood"]})";

TEST(JsonGrammarTest, AcceptsValidText) {
    auto s = schema_of(kPerson);
    for (const char* text : {
             R"({"name":"Tim","mood":"sad"})",
             R"({"name":"","tags":[],"mood":null})",
             R"({"name":"a\"\\\n","tags":["x","y"],"age":-12,"score":3.5e+10,"ok":true,"mood":12})",
             R"({"name":"h\u00e9","age":0,"score":-0.25,"mood":1})",
             "{\"name\":\"\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80!\",\"mood\":\"happy\"}",
         }) {
        EXPECT_TRUE(accepts_complete(s, text)) << text;
        EXPECT_EQ(testing::check_json(*s, text), "") << text;
    }
}

TEST(JsonGrammarTest, RejectsInvalidText) {
    auto s = schema_of(kPerson);
    for (const char* text : {
             R"({"mood":"sad","name":"Tim"})",                 // schema order
             R"({"name":"Tim"})",                              // missing required (incomplete)
             R"({"name":"Tim","mood":"glad"})",                // not in enum
             R"({"name":"Timothy","mood":"sad"})",             // maxLength 5
             R"({"name":"T","tags":["a","b","c"],"mood":1})",  // maxItems 2
             R"({"name":"T","age":1.5,"mood":1})",             // integer
             R"({"name":"T","age":-0,"mood":1})",              // integer -0
             R"({"name":"T","score":01,"mood":1})",            // leading zero
             R"({"name":"T","extra":1,"mood":1})",             // additional property
             R"({"name":"T","mood":1,})",                      // trailing comma
             R"({ "name":"T","mood":1})",                      // whitespace
             R"({"name":"\x","mood":1})",                      // bad escape
             R"({"name":"\ud800","mood":1})",                  // surrogate escape
             "{\"name\":\"a\nb\",\"mood\":1}",                 // raw control character
             "{\"name\":\"\xC0\xAF\",\"mood\":1}",             // overlong UTF-8
             "{\"name\":\"\xED\xA0\x80\",\"mood\":1}",         // UTF-8 surrogate
             R"({"name":"T","ok":tru,"mood":1})",
             R"({"name":"T","mood":1}})",
         }) {
        EXPECT_FALSE(accepts_complete(s, text)) << text;
    }
}

TEST(JsonGrammarTest, RejectedBytesLeaveTheStateUnchanged) {
    auto s = schema_of(R"({"type":"array","items":{"type":"array","items":{"type":"integer"}},"maxItems":1})");
    JsonGrammar g(s);
    ASSERT_TRUE(g.feed("[[1"));
    EXPECT_FALSE(g.feed("],"));  // maxItems 1: the ',' fails and the ']' is rolled back
    EXPECT_FALSE(g.feed('x'));
    EXPECT_TRUE(g.accepts('2'));
    EXPECT_TRUE(g.feed("2]]"));
    EXPECT_TRUE(g.is_complete());
    EXPECT_TRUE(g.is_closed());
    EXPECT_FALSE(g.feed(' '));
}

TEST(JsonGrammarTest, KnowsTheNextBytes) {
    auto s = schema_of(R"({"type":"object","properties":{"b":{"type":"boolean"},"n":{"type":"null"}}})");
    JsonGrammar g(s);
    std::bitset<256> open;
    open['{'] = true;
    EXPECT_EQ(g.next_bytes(), open);
    ASSERT_TRUE(g.feed('{'));
    std::bitset<256> first;
    first['"'] = true;
    first['}'] = true;
    EXPECT_EQ(g.next_bytes(), first);
    ASSERT_TRUE(g.feed('"'));
    std::bitset<256> key;
    key['b'] = true;
    key['n'] = true;
    EXPECT_EQ(g.next_bytes(), key);
    ASSERT_TRUE(g.feed("b\":"));
    std::bitset<256> value;
    value['t'] = true;
    value['f'] = true;
    EXPECT_EQ(g.next_bytes(), value);
}

TEST(JsonGrammarTest, NumbersMayEndOrGoOn) {
    auto s = schema_of(R"({"type":"number"})");
    JsonGrammar g(s);
    EXPECT_FALSE(g.is_complete());
    ASSERT_TRUE(g.feed("-1"));
    EXPECT_TRUE(g.is_complete());
    EXPECT_FALSE(g.is_closed());
    EXPECT_TRUE(g.accepts('5'));
    ASSERT_TRUE(g.feed('.'));
    EXPECT_FALSE(g.is_complete());
    EXPECT_EQ(g.min_bytes_to_complete(), 1);
    EXPECT_FALSE(accepts_complete(s, "1234567890123456"));  // 16 integer digits
    EXPECT_TRUE(accepts_complete(s, "123456789012345"));
    EXPECT_FALSE(accepts_complete(s, "1e100"));

    auto e = schema_of(R"({"enum":[1,12]})");
    JsonGrammar h(e);
    ASSERT_TRUE(h.feed('1'));
    EXPECT_TRUE(h.is_complete());
    EXPECT_FALSE(h.is_closed());
    ASSERT_TRUE(h.feed('2'));
    EXPECT_TRUE(h.is_closed());
}

TEST(JsonGrammarTest, MinBytesToCompleteIsExact) {
    auto s = schema_of(R"({"type":"object","properties":{
        "a":{"type":"string","minLength":2},
        "b":{"type":"array","items":{"enum":["xy","z"]},"minItems":2},
        "c":{"type":"integer"}},"required":["b","c"]})");
    JsonGrammar g(s);
    // {"b":["z","z"],"c":0}
    EXPECT_EQ(g.min_bytes_to_complete(), 21);
    ASSERT_TRUE(g.feed("{\"a\":\"q"));
    // one more character and '"', then ,"b":["z","z"],"c":0}
    EXPECT_EQ(g.min_bytes_to_complete(), 2 + 21);
}

// Random walks: any path of accepted bytes that ends complete is valid JSON of the schema, and following
// min_bytes_to_complete() down always reaches completion in exactly that many bytes.
TEST(JsonGrammarTest, RandomWalksProduceValidJson) {
    auto s = schema_of(kPerson);
    std::mt19937 rng(7);
    for (int walk = 0; walk < 300; ++walk) {
        JsonGrammar g(s);
        std::string text;
        const int free_steps = static_cast<int>(rng() % 60);
        for (int step = 0; step < 400 && !g.is_closed(); ++step) {
            if (g.is_complete() && (step >= free_steps || rng() % 4 == 0)) break;
            std::vector<std::uint8_t> options;
            const std::bitset<256> next = g.next_bytes();
            for (int b = 0; b < 256; ++b) {
                if (!next[static_cast<std::size_t>(b)]) continue;
                if (step >= free_steps) {
                    JsonGrammar t = g;
                    ASSERT_TRUE(t.feed(static_cast<std::uint8_t>(b)));
                    if (t.min_bytes_to_complete() != g.min_bytes_to_complete() - 1) continue;
                }
                options.push_back(static_cast<std::uint8_t>(b));
            }
            ASSERT_FALSE(options.empty()) << "dead end after " << text;
            const std::uint8_t b = options[rng() % options.size()];
            ASSERT_TRUE(g.feed(b));
            text.push_back(static_cast<char>(b));
        }
        ASSERT_TRUE(g.is_complete()) << text;
        EXPECT_EQ(testing::check_json(*s, text), "") << text;
    }
}

}  // namespace
}  // namespace kasten::llm
