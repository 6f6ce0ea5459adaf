#include "common/config.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

namespace kasten {
namespace {

TEST(ConfigTest, DefaultsFollowKastenHomeThenHome) {
    ConfigSources src;
    src.env = {{"HOME", "/home/u"}};
    EXPECT_EQ(load_config(src).value().data_dir, "/home/u/.local/share/kasten");
    src.env["KASTEN_HOME"] = "/srv/k";
    Config c = load_config(src).value();
    EXPECT_EQ(c.data_dir, "/srv/k");
    EXPECT_EQ(c.host, "127.0.0.1");
    EXPECT_EQ(c.effective_glove_path(), "/srv/k/embeddings/glove-6b-100d.kvec");
}

TEST(ConfigTest, UseEmbedderAndItsPath) {
    ConfigSources src;
    src.env = {{"KASTEN_HOME", "/srv/k"}};
    Config c = load_config(src).value();
    EXPECT_EQ(c.embedder, "auto");
    EXPECT_EQ(c.effective_use_path(), "/srv/k/embeddings/use-lite-en.kuse");
    src.env["KASTEN_USE_PATH"] = "/models/use.kuse";
    src.flags["embedder"] = "use";
    c = load_config(src).value();
    EXPECT_EQ(c.embedder, "use");
    EXPECT_EQ(c.effective_use_path(), "/models/use.kuse");
    src.flags["embedder"] = "usee";
    EXPECT_NE(load_config(src).status().message().find("use"), std::string::npos);
    src.flags["embedder"] = "glove+use";
    c = load_config(src).value();
    EXPECT_EQ(c.embedder, "glove+use");
    src.flags["embedder"] = "use+glove";
    EXPECT_NE(load_config(src).status().message().find("glove+use"), std::string::npos);
    src.flags["embedder"] = "glove+use";
    EXPECT_EQ(c.combined_weight, 0.5);
    src.flags["combined_weight"] = "0.25";
    EXPECT_EQ(load_config(src).value().combined_weight, 0.25);
    for (const char* bad : {"0", "1", "-0.5", "1.5", "", "0.5x", "half"}) {
        src.flags["combined_weight"] = bad;
        EXPECT_NE(load_config(src).status().message().find("combined_weight"), std::string::npos) << bad;
    }
}

TEST(ConfigTest, HitCacheSizeInMebibytes) {
    ConfigSources src;
    src.env = {{"KASTEN_HOME", "/tmp/kasten-hit-cache-config"}};
    EXPECT_EQ(load_config(src).value().hit_cache_mib, 64);
    src.flags["hit_cache_mib"] = "0";
    EXPECT_EQ(load_config(src).value().hit_cache_mib, 0);
    src.flags["hit_cache_mib"] = "512";
    EXPECT_EQ(load_config(src).value().hit_cache_mib, 512);
    for (const char* bad : {"-1", "", "64MiB", "2000000"}) {
        src.flags["hit_cache_mib"] = bad;
        EXPECT_NE(load_config(src).status().message().find("hit_cache_mib"), std::string::npos) << bad;
    }
}

TEST(ConfigTest, PrecedenceFileEnvFlags) {
    auto dir = std::filesystem::temp_directory_path() / "kasten_config_test";
    std::filesystem::create_directories(dir);
    std::string file = (dir / "c.json").string();
    std::ofstream(file) << R"({"port": 9000, "embedder": "hashing", "max_top_k": 50,
                              "api_keys": {"key-aaaaaaaa": ["alice"]}})";
    ConfigSources src;
    src.config_file = file;
    src.env = {{"KASTEN_HOME", dir.string()}};
    Config c = load_config(src).value();
    EXPECT_EQ(c.port, 9000);
    EXPECT_EQ(c.max_top_k, 50);
    ASSERT_EQ(c.api_keys.size(), 1u);
    EXPECT_EQ(c.api_keys[0].secret, "key-aaaaaaaa");
    EXPECT_EQ(c.api_keys[0].cubes, std::vector<std::string>{"alice"});
    src.env["KASTEN_PORT"] = "9100";
    EXPECT_EQ(load_config(src).value().port, 9100);
    src.flags["port"] = "9200";
    EXPECT_EQ(load_config(src).value().port, 9200);
    std::filesystem::remove_all(dir);
}

TEST(ConfigTest, ClearErrors) {
    ConfigSources src;
    src.env = {{"KASTEN_HOME", "/nonexistent-kasten"}};
    src.flags["port"] = "eighty";
    auto r = load_config(src);
    ASSERT_FALSE(r.is_ok());
    EXPECT_NE(r.status().message().find("--port"), std::string::npos);
    src.flags = {{"colour", "blue"}};
    EXPECT_EQ(load_config(src).status().code(), StatusCode::kInvalidArgument);
    src.flags = {};
    src.config_file = "/nonexistent-kasten/x.json";
    EXPECT_EQ(load_config(src).status().code(), StatusCode::kNotFound);
}

TEST(ConfigTest, NotesSettingFromFileEnvAndFlag) {
    ConfigSources src;
    src.env = {{"KASTEN_HOME", "/nonexistent-kasten"}};
    EXPECT_EQ(load_config(src).value().notes, "heuristic");

    auto dir = std::filesystem::temp_directory_path() / "kasten_config_notes_test";
    std::filesystem::create_directories(dir);
    std::string file = (dir / "c.json").string();
    std::ofstream(file) << R"({"notes": "off"})";
    src.config_file = file;
    EXPECT_EQ(load_config(src).value().notes, "off");
    src.env["KASTEN_NOTES"] = "llm";
    EXPECT_EQ(load_config(src).value().notes, "llm");
    src.flags["notes"] = "heuristic";
    EXPECT_EQ(load_config(src).value().notes, "heuristic");

    src.flags["notes"] = "gpt";
    auto bad_flag = load_config(src);
    ASSERT_FALSE(bad_flag.is_ok());
    EXPECT_EQ(bad_flag.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(bad_flag.status().message().find("flag --notes"), std::string::npos) << bad_flag.status().message();
    EXPECT_NE(bad_flag.status().message().find("heuristic, llm or off"), std::string::npos);
    src.flags.clear();
    src.env["KASTEN_NOTES"] = "always";
    auto bad_env = load_config(src);
    ASSERT_FALSE(bad_env.is_ok());
    EXPECT_NE(bad_env.status().message().find("KASTEN_NOTES"), std::string::npos) << bad_env.status().message();
    std::filesystem::remove_all(dir);

    const auto keys = Config::keys();
    EXPECT_NE(std::find(keys.begin(), keys.end(), "notes"), keys.end());
}

TEST(ConfigTest, ConfigFileWithARepeatedKeyIsRefused) {
    auto dir = std::filesystem::temp_directory_path() / "kasten_config_dup_test";
    std::filesystem::create_directories(dir);
    std::string file = (dir / "c.json").string();
    std::ofstream(file) << R"({"port": 9000, "port": 9001})";
    ConfigSources src;
    src.config_file = file;
    src.env = {{"KASTEN_HOME", dir.string()}};
    auto c = load_config(src);
    ASSERT_FALSE(c.is_ok());
    EXPECT_NE(c.status().message().find("'port' twice"), std::string::npos) << c.status().message();
}

TEST(ConfigTest, ConfigFileListsNamedAndHashedKeys) {
    auto dir = std::filesystem::temp_directory_path() / "kasten_config_keys_test";
    std::filesystem::create_directories(dir);
    std::string file = (dir / "c.json").string();
    const std::string hash(64, 'a');
    std::ofstream(file) << R"({"api_keys": [{"name": "alice-app", "key": "key-aaaaaaaa", "cubes": ["alice"]},
                                             {"name": "admin", "key": "sha256:)"
                        << hash << R"(", "cubes": ["*"]}]})";
    ConfigSources src;
    src.config_file = file;
    src.env = {{"KASTEN_HOME", dir.string()}};
    auto c = load_config(src);
    ASSERT_TRUE(c.is_ok()) << c.status().to_string();
    ASSERT_EQ(c->api_keys.size(), 2u);
    EXPECT_EQ(c->api_keys[0].name, "alice-app");
    EXPECT_FALSE(c->api_keys[0].hashed);
    EXPECT_EQ(c->api_keys[1].name, "admin");
    EXPECT_TRUE(c->api_keys[1].hashed);
    EXPECT_EQ(c->api_keys[1].secret, hash);
}

TEST(ConfigTest, HttpLimitsHaveDefaultsAndBounds) {
    Config c;
    EXPECT_EQ(c.http_header_timeout_s, 10);
    EXPECT_EQ(c.http_body_timeout_s, 60);
    EXPECT_EQ(c.http_max_connections, 0);
    EXPECT_EQ(c.http_max_connections_per_client, 64);
    ASSERT_TRUE(c.set("http_header_timeout_s", "2").is_ok());
    ASSERT_TRUE(c.set("http_body_timeout_s", "30").is_ok());
    ASSERT_TRUE(c.set("http_max_connections", "100").is_ok());
    ASSERT_TRUE(c.set("http_max_connections_per_client", "0").is_ok());
    EXPECT_EQ(c.http_header_timeout_s, 2);
    EXPECT_EQ(c.http_body_timeout_s, 30);
    EXPECT_EQ(c.http_max_connections, 100);
    EXPECT_EQ(c.http_max_connections_per_client, 0);
    EXPECT_FALSE(c.set("http_header_timeout_s", "0").is_ok());  // a deadline of 0 would refuse every request
    EXPECT_FALSE(c.set("http_body_timeout_s", "-1").is_ok());
    EXPECT_FALSE(c.set("http_max_connections", "5000").is_ok());
    const auto keys = Config::keys();
    for (const char* k :
         {"http_header_timeout_s", "http_body_timeout_s", "http_max_connections", "http_max_connections_per_client"}) {
        EXPECT_NE(std::find(keys.begin(), keys.end(), k), keys.end()) << k;
    }
}

}  // namespace
}  // namespace kasten
