#include "common/api_keys.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace kasten {
namespace {

TEST(ApiKeysTest, TextFormNamesKeysByNameOrPosition) {
    auto keys = parse_api_keys("key-aaaaaaaa=alice,bob;admin@key-bbbbbbbb=*").value();
    ASSERT_EQ(keys.size(), 2u);
    EXPECT_EQ(keys[0].name, "key-1");
    EXPECT_EQ(keys[0].secret, "key-aaaaaaaa");
    EXPECT_EQ(keys[0].cubes, (std::vector<std::string>{"alice", "bob"}));
    EXPECT_EQ(keys[1].name, "admin");
    EXPECT_EQ(keys[1].secret, "key-bbbbbbbb");
    EXPECT_EQ(keys[1].cubes, std::vector<std::string>{"*"});
}

TEST(ApiKeysTest, HashedKeysAreNormalisedToLowerHex) {
    const std::string upper(64, 'A');
    auto keys = parse_api_keys("ops@sha256:" + upper + "=alice").value();
    ASSERT_EQ(keys.size(), 1u);
    EXPECT_TRUE(keys[0].hashed);
    EXPECT_EQ(keys[0].secret, std::string(64, 'a'));
}

TEST(ApiKeysTest, BadEntriesAreRefusedWithAReason) {
    auto expect_error = [](const std::string& text, const std::string& part) {
        auto r = parse_api_keys(text);
        ASSERT_FALSE(r.is_ok()) << text;
        EXPECT_NE(r.status().message().find(part), std::string::npos) << r.status().message();
    };
    expect_error("short=alice", "at least 8");
    expect_error("key-aaaaaaaa=", "expected");
    expect_error("sha256:abc=alice", "64 hex");
    expect_error("bad name@key-aaaaaaaa=alice", "key name");
    expect_error("a@key-aaaaaaaa=alice;a@key-bbbbbbbb=bob", "'a' twice");
    expect_error("key-aaaaaaaa=alice;key-aaaaaaaa=bob", "repeats");
}

TEST(ApiKeysTest, JsonFormsListObjectAndString) {
    auto list = parse_api_keys_json(nlohmann::json::parse(R"([{"name": "app", "key": "key-aaaaaaaa",
                                                                "cubes": ["alice"]}])"),
                                    "api_keys");
    ASSERT_TRUE(list.is_ok()) << list.status().to_string();
    EXPECT_EQ((*list)[0].name, "app");
    auto object = parse_api_keys_json(nlohmann::json::parse(R"({"key-aaaaaaaa": ["alice"]})"), "api_keys");
    ASSERT_TRUE(object.is_ok());
    EXPECT_EQ((*object)[0].name, "key-1");
    auto text = parse_api_keys_json(nlohmann::json("app@key-aaaaaaaa=alice"), "api_keys");
    ASSERT_TRUE(text.is_ok());
    EXPECT_EQ((*text)[0].name, "app");
    auto unknown = parse_api_keys_json(nlohmann::json::parse(R"([{"name": "app", "key": "key-aaaaaaaa",
                                                                   "cubes": ["alice"], "scope": 1}])"),
                                       "api_keys");
    ASSERT_FALSE(unknown.is_ok());
    EXPECT_NE(unknown.status().message().find("'scope'"), std::string::npos);
    EXPECT_FALSE(
        parse_api_keys_json(nlohmann::json::parse(R"([{"key": "key-aaaaaaaa", "cubes": ["a"]}])"), "api_keys").is_ok());
}

}  // namespace
}  // namespace kasten
