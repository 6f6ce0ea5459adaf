#include "llm/json_schema.h"

#include <gtest/gtest.h>

namespace kasten::llm {
namespace {

StatusCode code_of(std::string_view text) {
    return JsonSchema::parse(text).status().code();
}

TEST(JsonSchemaTest, ParsesObjectsInSchemaOrder) {
    Result<JsonSchema> s = JsonSchema::parse(R"({
        "type": "object", "title": "t", "additionalProperties": false,
        "properties": {"zeta": {"type": "string", "maxLength": 8},
                       "alpha": {"type": "array", "items": {"type": "integer"}, "minItems": 1, "maxItems": 3},
                       "mood": {"enum": ["sad", "happy", 3, null]}},
        "required": ["alpha"]})");
    ASSERT_TRUE(s.is_ok()) << s.status().to_string();
    const JsonSchemaNode& root = s->node(JsonSchema::kRoot);
    ASSERT_EQ(root.type, JsonType::kObject);
    ASSERT_EQ(root.properties.size(), 3u);
    EXPECT_EQ(root.properties[0].name, "zeta");
    EXPECT_EQ(root.properties[0].key_literal, "\"zeta\"");
    EXPECT_FALSE(root.properties[0].required);
    EXPECT_EQ(root.properties[1].name, "alpha");
    EXPECT_TRUE(root.properties[1].required);
    EXPECT_EQ(root.properties[2].name, "mood");
    const JsonSchemaNode& zeta = s->node(root.properties[0].schema);
    EXPECT_EQ(zeta.type, JsonType::kString);
    EXPECT_EQ(zeta.max_length, 8);
    const JsonSchemaNode& alpha = s->node(root.properties[1].schema);
    EXPECT_EQ(alpha.type, JsonType::kArray);
    EXPECT_EQ(alpha.min_items, 1);
    EXPECT_EQ(alpha.max_items, 3);
    EXPECT_EQ(s->node(alpha.items).type, JsonType::kInteger);
    const JsonSchemaNode& mood = s->node(root.properties[2].schema);
    EXPECT_EQ(mood.type, JsonType::kEnum);
    EXPECT_EQ(mood.literals, (std::vector<std::string>{"\"happy\"", "\"sad\"", "3", "null"}));
    // {"alpha":[0]}
    EXPECT_EQ(root.min_bytes, 13);
}

TEST(JsonSchemaTest, ParsesScalarsAndConst) {
    EXPECT_EQ(JsonSchema::parse(R"({"type":"boolean"})")->node(0).literals,
              (std::vector<std::string>{"false", "true"}));
    EXPECT_EQ(JsonSchema::parse(R"({"type":"null"})")->node(0).literals, (std::vector<std::string>{"null"}));
    EXPECT_EQ(JsonSchema::parse(R"({"const":"x\"y"})")->node(0).literals, (std::vector<std::string>{"\"x\\\"y\""}));
    EXPECT_EQ(JsonSchema::parse(R"({"type":"number","description":"d"})")->node(0).type, JsonType::kNumber);
    EXPECT_EQ(JsonSchema::parse(R"({"type":"string","minLength":2})")->node(0).min_bytes, 4);
}

TEST(JsonSchemaTest, RejectsMalformedSchemas) {
    EXPECT_EQ(code_of("{not json"), StatusCode::kInvalidArgument);
    EXPECT_EQ(code_of("[]"), StatusCode::kInvalidArgument);
    EXPECT_EQ(code_of(R"({"type":"strng"})"), StatusCode::kInvalidArgument);
    EXPECT_EQ(code_of(R"({"type":"object","properties":{"a":{"type":"string"}},"required":["b"]})"),
              StatusCode::kInvalidArgument);
    EXPECT_EQ(code_of(R"({"type":"object","properties":[]})"), StatusCode::kInvalidArgument);
    EXPECT_EQ(code_of(R"({"type":"string","minLength":5,"maxLength":2})"), StatusCode::kInvalidArgument);
    EXPECT_EQ(code_of(R"({"type":"array","items":{"type":"string"},"maxItems":-1})"), StatusCode::kInvalidArgument);
    EXPECT_EQ(code_of(R"({"type":"array","items":{"type":"string"},"minItems":"2"})"), StatusCode::kInvalidArgument);
    EXPECT_EQ(code_of(R"({"enum":[]})"), StatusCode::kInvalidArgument);
}

TEST(JsonSchemaTest, RejectsUnsupportedKeywordsByName) {
    Result<JsonSchema> s = JsonSchema::parse(R"({"type":"object","properties":{"a":{"type":"string","pattern":"x"}}})");
    ASSERT_EQ(s.status().code(), StatusCode::kNotSupported);
    EXPECT_NE(s.status().to_string().find("pattern"), std::string::npos) << s.status().to_string();
    EXPECT_NE(s.status().to_string().find("schema.a"), std::string::npos) << s.status().to_string();
    EXPECT_EQ(code_of(R"({"anyOf":[{"type":"string"}]})"), StatusCode::kNotSupported);
    EXPECT_EQ(code_of(R"({"type":["string","null"]})"), StatusCode::kNotSupported);
    EXPECT_EQ(code_of(R"({"type":"integer","minimum":0})"), StatusCode::kNotSupported);
    EXPECT_EQ(code_of(R"({"type":"object","additionalProperties":true})"), StatusCode::kNotSupported);
    EXPECT_EQ(code_of(R"({"type":"array"})"), StatusCode::kNotSupported);
    EXPECT_EQ(code_of(R"({"enum":[[1]]})"), StatusCode::kNotSupported);
    EXPECT_EQ(code_of(R"({"$ref":"#/x"})"), StatusCode::kNotSupported);
    EXPECT_EQ(code_of(R"({"type":"string","maxItems":3})"), StatusCode::kNotSupported);
}

TEST(JsonSchemaTest, RejectsExcessiveNesting) {
    std::string deep;
    for (int i = 0; i < 40; ++i) deep += R"({"type":"array","items":)";
    deep += R"({"type":"null"})";
    for (int i = 0; i < 40; ++i) deep += "}";
    EXPECT_EQ(code_of(deep), StatusCode::kNotSupported);
}

}  // namespace
}  // namespace kasten::llm
