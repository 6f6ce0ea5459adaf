// `kasten bench append`, `kasten bench http` and `kasten bench search` run end to end, small and quick, as a separate
// process.
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/api/integration/kasten_process.h"

namespace kasten::api::testing {
namespace {

using nlohmann::json;

json read_json(const std::string& path) {
    std::ifstream in(path);
    EXPECT_TRUE(in.good()) << path;
    return json::parse(in, nullptr, false);
}

TEST(BenchIntegrationTest, AppendThroughMemoryManagerAndHttp) {
    TempDir dir("kasten-bench-append-test");
    const std::string out = dir.path() + "/append.json";
    CommandResult r =
        run_kasten({"bench", "append", "--turns", "200", "--http", "--embedder", "hashing", "--json", "--out", out});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    json j = read_json(out);
    ASSERT_TRUE(j.is_object());
    EXPECT_EQ(j["benchmark"], "append");
    EXPECT_EQ(j["turns"], 200);
    EXPECT_EQ(json::parse(r.out), j);
    for (const char* pass : {"direct", "http"}) {
        SCOPED_TRACE(pass);
        const json& p = j["passes"][pass];
        ASSERT_TRUE(p.is_object());
        EXPECT_TRUE(p["error"].is_null());
        EXPECT_EQ(p["turns_added"], 200);
        ASSERT_EQ(p["windows"].size(), 2u);  // [0,100) and [100,200)
        EXPECT_EQ(p["windows"][0]["from"], 0);
        EXPECT_EQ(p["windows"][1]["to"], 200);
        for (const auto& w : p["windows"]) {
            EXPECT_GT(w["p50_ms"].get<double>(), 0);
            EXPECT_GE(w["p99_ms"].get<double>(), w["p50_ms"].get<double>());
        }
        EXPECT_TRUE(p["p50_ratio"].is_number());
        EXPECT_EQ(p["curve"].size(), 10u);
    }
    EXPECT_EQ(j["passes"]["http"]["connections_opened"], 1);
}

TEST(BenchIntegrationTest, HttpLoadWithVerification) {
    TempDir dir("kasten-bench-http-test");
    const std::string out = dir.path() + "/http.json";
    CommandResult r = run_kasten({"bench", "http", "--seconds", "2", "--clients", "8", "--cubes", "4", "--prefill",
                                  "20", "--embedder", "hashing", "--json", "--out", out});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    json j = read_json(out);
    ASSERT_TRUE(j.is_object());
    EXPECT_EQ(j["benchmark"], "http");
    EXPECT_EQ(j["target"], "in-process");
    EXPECT_EQ(j["clients"], 8);
    EXPECT_GT(j["requests"].get<long long>(), 0);
    EXPECT_EQ(j["errors"], 0) << j["first_errors"].dump();
    EXPECT_GT(j["throughput_rps"].get<double>(), 0);
    for (const char* kind : {"add", "search"}) {
        SCOPED_TRACE(kind);
        const json& k = j["kinds"][kind];
        EXPECT_GT(k["requests"].get<long long>(), 0);
        EXPECT_EQ(k["errors"], 0);
        for (const char* f : {"p50_ms", "p90_ms", "p99_ms", "max_ms"}) EXPECT_TRUE(k["latency"][f].is_number()) << f;
    }
    for (const char* f : {"p50_ms", "p90_ms", "p99_ms", "max_ms"}) EXPECT_TRUE(j["latency"][f].is_number()) << f;
    const json& v = j["verify"];
    ASSERT_TRUE(v.is_object());
    EXPECT_EQ(v["acknowledged"], j["kinds"]["add"]["requests"]);
    EXPECT_EQ(v["verified"], v["acknowledged"]);
    EXPECT_EQ(v["missing"], 0) << v["first_missing"].dump();
    EXPECT_EQ(v["errors"], 0);
    // In process, the searches' lookups in the hit cache: every search looks its cube up at least.
    const json& cache = j["hit_cache"];
    ASSERT_TRUE(cache.is_object());
    EXPECT_GE(cache["hits"].get<long long>() + cache["misses"].get<long long>(),
              j["kinds"]["search"]["requests"].get<long long>());
    EXPECT_GT(cache["hits"].get<long long>(), 0);
    EXPECT_GT(cache["entries"].get<long long>(), 0);
}

TEST(BenchIntegrationTest, HttpAgainstAnExternalServer) {
    TempDir dir("kasten-bench-http-url-test");
    auto server = KastenServer::start(dir.path() + "/data");
    ASSERT_NE(server, nullptr);
    const std::string out = dir.path() + "/http.json";
    CommandResult r =
        run_kasten({"bench", "http", "--url", "http://127.0.0.1:" + std::to_string(server->port()), "--seconds", "1",
                    "--clients", "4", "--cubes", "2", "--prefill", "10", "--json", "--out", out});
    ASSERT_EQ(r.exit_code, 0) << r.err << server->log();
    json j = read_json(out);
    EXPECT_EQ(j["errors"], 0) << j["first_errors"].dump();
    EXPECT_EQ(j["verify"]["missing"], 0);
    EXPECT_GT(j["verify"]["verified"].get<long long>(), 0);
    EXPECT_TRUE(j["hit_cache"].is_null());  // another process's cache: see its /metrics
    EXPECT_EQ(server->stop(), 0);
}

// The search benchmark's phases, the under-ingest one with the writers' adds as background (bulk) work.
TEST(BenchIntegrationTest, SearchWithIngestInTheBackground) {
    TempDir dir("kasten-bench-search-test");
    const std::string out = dir.path() + "/search.json";
    CommandResult r = run_kasten(
        {"bench", "search", "--turns", "1500", "--queries", "1000", "--embedder", "hashing", "--json", "--out", out});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    json j = read_json(out);
    ASSERT_TRUE(j.is_object());
    EXPECT_EQ(j["benchmark"], "search");
    EXPECT_EQ(j["turns"], 1500);
    for (const char* retriever : {"lexical", "vector", "hybrid"}) {
        EXPECT_GT(j["retrievers"][retriever]["search_p99_ms"].get<double>(), 0) << retriever;
    }
    const json& u = j["under_ingest"];
    ASSERT_TRUE(u.is_object());
    EXPECT_EQ(u["ingest_priority"], "background");
    EXPECT_EQ(u["queries"], 1000);
    EXPECT_GE(u["turns_ingested"].get<long long>(), 0);
    EXPECT_GE(u["search_helper_handoffs"].get<long long>(), 0);
    EXPECT_GT(u["p99_ratio"].get<double>(), 0);
    EXPECT_EQ(run_kasten({"bench", "search", "--turns", "100", "--ingest-priority", "idle"}).exit_code, 2);
}

TEST(BenchIntegrationTest, BenchUsageNamesEveryBenchmarkAndRejectsBadOptions) {
    CommandResult help = run_kasten({"bench", "--help"});
    EXPECT_EQ(help.exit_code, 0);
    for (const char* s : {"kasten bench append", "kasten bench http", "--http-only", "--clients C", "--url URL",
                          "--prefill N", "--ingest-threads T", "--ingest-priority P", "--healthz"}) {
        EXPECT_NE(help.out.find(s), std::string::npos) << s;
    }
    EXPECT_EQ(run_kasten({"bench", "append", "--turns", "10"}).exit_code, 2);
    EXPECT_EQ(run_kasten({"bench", "http", "--clients", "0"}).exit_code, 2);
    EXPECT_EQ(run_kasten({"bench", "http", "--url", "ftp://x"}).exit_code, 2);
}

}  // namespace
}  // namespace kasten::api::testing
