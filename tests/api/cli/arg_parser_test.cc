#include "api/cli/arg_parser.h"

#include <gtest/gtest.h>

namespace kasten::api {
namespace {

ArgParser search_parser() {
    return ArgParser({{"cube", "C", "the cube"}, {"top-k", "N", "hits"}, {"json", "", "as JSON"}});
}

TEST(ArgParserTest, FlagsValuesAndPositionals) {
    auto r = search_parser().parse({"--cube", "alice", "where", "--top-k=3", "--json", "do", "I", "live"});
    ASSERT_TRUE(r.is_ok()) << r.status().to_string();
    EXPECT_EQ(*r->get("cube"), "alice");
    EXPECT_EQ(*r->get("top-k"), "3");
    EXPECT_TRUE(r->has("json"));
    EXPECT_EQ(r->positionals, (std::vector<std::string>{"where", "do", "I", "live"}));
    EXPECT_FALSE(r->help);
}

TEST(ArgParserTest, GlobalFlagsAreAlwaysAccepted) {
    auto r = search_parser().parse(
        {"--data-dir", "/tmp/x", "--embedder=hashing", "--log-level", "debug", "--config", "c.json"});
    ASSERT_TRUE(r.is_ok());
    EXPECT_EQ(*r->get("data-dir"), "/tmp/x");
    EXPECT_EQ(*r->get("embedder"), "hashing");
    EXPECT_EQ(*r->get("log-level"), "debug");
    EXPECT_EQ(*r->get("config"), "c.json");
}

TEST(ArgParserTest, UnknownAndIncompleteFlagsAreErrors) {
    EXPECT_EQ(search_parser().parse({"--cubes", "a"}).status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(search_parser().parse({"--cubes", "a"}).status().message().find("--cubes"), std::string::npos);
    EXPECT_EQ(search_parser().parse({"-x"}).status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(search_parser().parse({"--cube"}).status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(search_parser().parse({"--json=yes"}).status().code(), StatusCode::kInvalidArgument);
}

TEST(ArgParserTest, HelpAndDoubleDash) {
    EXPECT_TRUE(search_parser().parse({"--help"})->help);
    EXPECT_TRUE(search_parser().parse({"-h"})->help);
    auto r = search_parser().parse({"--cube", "a", "--", "--json", "-5"});
    ASSERT_TRUE(r.is_ok());
    EXPECT_FALSE(r->has("json"));
    EXPECT_EQ(r->positionals, (std::vector<std::string>{"--json", "-5"}));
    EXPECT_EQ(search_parser().parse({"-"})->positionals, std::vector<std::string>{"-"});
}

TEST(ArgParserTest, HelpListsFlagsWithGlobalsLast) {
    const std::string help = search_parser().flag_help();
    EXPECT_NE(help.find("--top-k N"), std::string::npos);
    EXPECT_LT(help.find("--json"), help.find("--data-dir"));
    EXPECT_NE(help.find("--help"), std::string::npos);
}

TEST(ArgParserTest, IntegerFlags) {
    EXPECT_EQ(parse_int_flag("top-k", "5", 1, 10).value(), 5);
    EXPECT_EQ(parse_int_flag("top-k", "0", 1, 10).status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(parse_int_flag("top-k", "11", 1, 10).status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(parse_int_flag("top-k", "3x", 1, 10).status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(parse_int_flag("top-k", "", 1, 10).status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(parse_int_flag("offset", "-1", 0, 10).status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(parse_int_flag("top-k", "x", 1, 10).status().message().find("--top-k"), std::string::npos);
}

}  // namespace
}  // namespace kasten::api
