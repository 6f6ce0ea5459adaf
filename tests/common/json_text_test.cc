#include "common/json_text.h"

#include <gtest/gtest.h>

namespace kasten {
namespace {

std::string error_of(std::string_view text, int depth = kMaxJsonDepth) {
    auto r = parse_json_text<nlohmann::json>(text, "the body", depth);
    return r.is_ok() ? std::string() : r.status().message();
}

TEST(JsonTextTest, AcceptsPlainJson) {
    auto r = parse_json_text<nlohmann::json>(R"({"a": [1, {"b": "x"}], "c": {"a": 2}})", "the body");
    ASSERT_TRUE(r.is_ok()) << r.status().to_string();
    EXPECT_EQ((*r)["c"]["a"], 2);
    auto ordered = parse_json_text<nlohmann::ordered_json>(R"({"z": 1, "a": 2})", "the body");
    ASSERT_TRUE(ordered.is_ok());
    EXPECT_EQ(ordered->begin().key(), "z");
}

TEST(JsonTextTest, RefusesARepeatedKeyInOneObjectOnly) {
    EXPECT_NE(error_of(R"({"a": 1, "a": 2})").find("'a' twice"), std::string::npos);
    EXPECT_NE(error_of(R"({"x": {"k": 1, "k": 1}})").find("'k' twice"), std::string::npos);
    EXPECT_NE(error_of(R"([{"k": 1}, {"k": 2, "j": 1, "k": 3}])").find("'k' twice"), std::string::npos);
    EXPECT_EQ(error_of(R"({"k": {"k": 1}, "j": [{"k": 1}, {"k": 2}]})"), "");
}

TEST(JsonTextTest, RefusesAByteOrderMark) {
    EXPECT_NE(error_of("\xEF\xBB\xBF{}").find("byte order mark"), std::string::npos);
}

TEST(JsonTextTest, RefusesDeepNestingBeforeParsing) {
    std::string deep(100000, '[');
    EXPECT_NE(error_of(deep).find("deeper than 32"), std::string::npos);
    EXPECT_EQ(error_of(std::string(32, '[') + std::string(32, ']')), "");
    EXPECT_NE(error_of(std::string(3, '[') + std::string(3, ']'), 2).find("deeper than 2"), std::string::npos);
    EXPECT_EQ(json_nesting_depth(R"({"a": "[[[[", "b": ["\"]"]})"), 2);
}

TEST(JsonTextTest, NamesBadJsonAndBadUtf8) {
    EXPECT_EQ(error_of("{").rfind("the body is not valid JSON", 0), 0u);
    EXPECT_NE(error_of("\"\xC3\x28\"").find("UTF-8"), std::string::npos);
    // A number no double holds is bad input, not an escaped library exception.
    EXPECT_EQ(error_of(R"({"a": 1e400})").rfind("the body is not valid JSON", 0), 0u);
}

}  // namespace
}  // namespace kasten
