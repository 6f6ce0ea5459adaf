#include "memory/llm_reply.h"

#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace kasten::memory {
namespace {

using Json = nlohmann::json;
using Labels = std::vector<std::string>;

TEST(LlmReplyTest, TrimAndOneLineCollapseAsciiWhitespace) {
    EXPECT_EQ(trim(" \t\n a b \r\f\v"), "a b");
    EXPECT_EQ(trim(" \n "), "");
    EXPECT_EQ(one_line("  The user\n\n  moved\tto  Oslo.\r\n"), "The user moved to Oslo.");
    EXPECT_EQ(one_line("\n\t "), "");
    EXPECT_EQ(one_line("x"), "x");
}

TEST(LlmReplyTest, AsciiLowerLeavesNonAsciiBytesAlone) {
    EXPECT_EQ(ascii_lower("Hiking IN Åre"), "hiking in \xC3\x85re");
}

TEST(LlmReplyTest, TruncateCharsCountsCodePointsAndMarksCutsOnRequest) {
    const std::string text = "caf\xC3\xA9 au lait";  // "café au lait": 12 code points, 13 bytes
    EXPECT_EQ(truncate_chars(text, 4), "caf\xC3\xA9");
    EXPECT_EQ(truncate_chars(text, 4, true), "caf\xC3\xA9\xE2\x80\xA6");
    EXPECT_EQ(truncate_chars(text, 12, true), text);  // nothing cut, no mark
    EXPECT_EQ(truncate_chars(text, -1, true), text);  // no limit
    EXPECT_EQ(truncate_chars(text, 0), "");
    EXPECT_EQ(truncate_chars("\xE6\x97\xA5\xE6\x9C\xAC", 1), "\xE6\x97\xA5");  // never splits a code point
}

TEST(LlmReplyTest, ParseReplyObjectTakesTheOutermostBraces) {
    const std::optional<Json> fenced =
        parse_reply_object("Sure! Here it is:\n```json\n{\"notes\": [{\"a\": {\"b\": 1}}]}\n```\nDone.");
    ASSERT_TRUE(fenced.has_value());
    EXPECT_EQ((*fenced)["notes"][0]["a"]["b"], 1);

    EXPECT_FALSE(parse_reply_object("").has_value());
    EXPECT_FALSE(parse_reply_object("no json here").has_value());
    EXPECT_FALSE(parse_reply_object("} backwards {").has_value());
    EXPECT_FALSE(parse_reply_object("{\"notes\": [1, 2}").has_value());         // invalid JSON
    EXPECT_FALSE(parse_reply_object("{\"a\": 1} and {\"b\": 2}").has_value());  // two objects are not one
    EXPECT_FALSE(parse_reply_object("[1, 2]").has_value());                     // not an object
}

TEST(LlmReplyTest, MemberAccessNeverThrows) {
    const Json object = {{"name", "Oslo"}, {"count", 3}};
    ASSERT_NE(member(object, "count"), nullptr);
    EXPECT_EQ(*member(object, "count"), 3);
    EXPECT_EQ(member(object, "missing"), nullptr);
    EXPECT_EQ(member(Json::array({1}), "name"), nullptr);
    EXPECT_EQ(string_member(object, "name"), "Oslo");
    EXPECT_EQ(string_member(object, "count"), "");  // not a string
    EXPECT_EQ(string_member(object, "missing"), "");
}

TEST(LlmReplyTest, CleanLabelsNormalisesDedupesAndCaps) {
    const Json labels =
        Json::array({"  Hiking\n Trips ", 7, "", "hiking trips", "Norway", "\xC3\x85re valley", "Extra"});
    EXPECT_EQ(clean_labels(&labels, 10, 40), (Labels{"hiking trips", "norway", "\xC3\x85re valley", "extra"}));
    EXPECT_EQ(clean_labels(&labels, 2, 40), (Labels{"hiking trips", "norway"}));
    EXPECT_EQ(clean_labels(&labels, 10, 4), (Labels{"hiki", "norw", "\xC3\x85re ", "extr"}));  // code points, no mark
    EXPECT_EQ(clean_labels(&labels, 0, 40), Labels{});
    EXPECT_EQ(clean_labels(nullptr, 5, 40), Labels{});
    const Json not_array = "hiking";
    EXPECT_EQ(clean_labels(&not_array, 5, 40), Labels{});
}

}  // namespace
}  // namespace kasten::memory
