#include "api/http/url.h"

#include <gtest/gtest.h>

namespace kasten::api {
namespace {

TEST(UrlTest, SplitsAndDecodesPaths) {
    auto s = split_path("/v1/cubes/a%20b/memories/");
    ASSERT_TRUE(s.is_ok());
    EXPECT_EQ(s.value(), (std::vector<std::string>{"v1", "cubes", "a b", "memories"}));
    EXPECT_TRUE(split_path("/").value().empty());
    EXPECT_EQ(split_path("/a//b").value(), (std::vector<std::string>{"a", "", "b"}));
    EXPECT_EQ(split_path("/x%2Fy").value(), (std::vector<std::string>{"x/y"}));
}

TEST(UrlTest, RejectsBadEscapesAndInvalidText) {
    EXPECT_EQ(split_path("/a%2").status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(split_path("/a%zz").status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(split_path("/a%ff").status().code(), StatusCode::kInvalidArgument);  // not UTF-8
    EXPECT_EQ(split_path("/a%00").status().code(), StatusCode::kInvalidArgument);  // NUL
    EXPECT_TRUE(split_path("/%C3%A9").is_ok());
}

TEST(UrlTest, ParsesQueries) {
    auto q = parse_query("limit=5&offset=10&status=&x=a+b%21");
    ASSERT_TRUE(q.is_ok());
    EXPECT_EQ(q->at("limit"), "5");
    EXPECT_EQ(q->at("offset"), "10");
    EXPECT_EQ(q->at("status"), "");
    EXPECT_EQ(q->at("x"), "a b!");
    EXPECT_EQ(parse_query("a=1&a=2").status().code(), StatusCode::kInvalidArgument);
    EXPECT_TRUE(parse_query("").value().empty());
}

TEST(UrlTest, EncodeRoundTrips) {
    const std::string text = "a b/ü?&=";
    EXPECT_EQ(percent_decode(percent_encode(text), false).value(), text);
    EXPECT_EQ(percent_encode("demo-1.x_y~"), "demo-1.x_y~");
}

}  // namespace
}  // namespace kasten::api
