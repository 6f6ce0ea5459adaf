#include "store/string_list_codec.h"

#include <gtest/gtest.h>

namespace kasten::store {
namespace {

TEST(StringListCodecTest, EncodesJsonArray) {
    EXPECT_EQ(encode_string_list({}), "[]");
    EXPECT_EQ(encode_string_list({"a", "b c"}), R"(["a","b c"])");
    EXPECT_EQ(encode_string_list({"say \"hi\"\\", "l1\nl2\t\x01"}), R"(["say \"hi\"\\","l1\nl2\t\u0001"])");
    EXPECT_EQ(encode_string_list({""}), R"([""])");
}

TEST(StringListCodecTest, RoundTripsArbitraryBytes) {
    std::vector<std::string> items = {"",
                                      "plain",
                                      "quotes \" and ' and \\",
                                      "'); DROP TABLE turns;--",
                                      "unicode: café 東京 🚀",
                                      std::string("nul\0inside", 10),
                                      "\x7f\x1f\b\f\r",
                                      "\xff\xfe invalid utf-8"};
    std::vector<std::string> back = {"stale"};
    ASSERT_TRUE(decode_string_list(encode_string_list(items), &back));
    EXPECT_EQ(back, items);
}

TEST(StringListCodecTest, DecodesStandardJson) {
    std::vector<std::string> out;
    ASSERT_TRUE(decode_string_list(" [ \"a\" ,\n\"\\u00e9\\/\\uD83D\\uDE80\" ] ", &out));
    ASSERT_EQ(out.size(), 2u);
    EXPECT_EQ(out[0], "a");
    EXPECT_EQ(out[1], "é/🚀");
    ASSERT_TRUE(decode_string_list("[]", &out));
    EXPECT_TRUE(out.empty());
}

TEST(StringListCodecTest, RejectsMalformedInput) {
    std::vector<std::string> out;
    for (const char* bad : {"", "[", "]", "[\"a\"", "[\"a\",]", "[1]", "[\"a\"] x", "{\"a\":1}", "[\"\\x\"]",
                            "[\"\\u12\"]", "[\"\\uDE80\"]", "[\"\\uD83D\"]", "[\"a\" \"b\"]", "null"}) {
        EXPECT_FALSE(decode_string_list(bad, &out)) << bad;
    }
}

}  // namespace
}  // namespace kasten::store
