// /healthz while the lexical index is dirty (a failed index write) and after its repair.
#include <chrono>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "api/http/api_service.h"
#include "llm/hashing_embedder.h"
#include "memory/index_write_faults.h"

namespace kasten::api {
namespace {

using nlohmann::json;

TEST(ApiServiceStorageTest, HealthzReportsADirtyIndexUntilItIsRepaired) {
    FakeClock clock(1717000000000);
    auto faults = std::make_shared<memory::IndexWriteFaults>();
    memory::MemoryOptions options;
    options.in_memory = true;
    options.embedder = std::make_shared<llm::HashingEmbedder>(64);
    options.clock = &clock;
    options.index_write_faults = faults;
    options.index_repair_delay_ms = 50;
    options.index_repair_max_delay_ms = 200;
    auto m = memory::MemoryManager::open(std::move(options));
    ASSERT_TRUE(m.is_ok()) << m.status().to_string();
    ApiServiceOptions o;
    o.version = "test";
    o.embedder_dim = 64;
    ApiService service(*m.value(), o);
    auto call = [&](const std::string& method, const std::string& target, const std::string& body = "") {
        HttpRequest r;
        r.method = method;
        r.target = target;
        r.body = body;
        return service.handle(r);
    };
    auto health = [&] { return json::parse(call("GET", "/healthz").body); };
    auto lexical_hits = [&](const std::string& query) {
        HttpResponse r = call("POST", "/v1/cubes/c/search",
                              json{{"query", query}, {"retriever", "lexical"}, {"granularity", "turn"}}.dump());
        EXPECT_EQ(r.status, 200) << r.body;
        return json::parse(r.body)["hits"].size();
    };

    EXPECT_EQ(health()["status"], "ok");
    EXPECT_EQ(health()["lexical_index"]["state"], "ok");
    faults->set_failing(true);
    const std::string add = R"({"messages":[{"role":"user","content":"my wombat is called Kevin"}]})";
    HttpResponse added = call("POST", "/v1/cubes/c/memories", add);
    ASSERT_EQ(added.status, 201) << added.body;  // stored in SQLite: acknowledged
    json h = health();
    EXPECT_EQ(h["status"], "degraded");
    EXPECT_EQ(h["lexical_index"]["state"], "repairing");
    EXPECT_NE(h["lexical_index"]["error"].get<std::string>().find("insufficient_storage"), std::string::npos) << h;
    EXPECT_TRUE(h["lexical_index"]["dirty_since"].is_string());
    EXPECT_NE(call("GET", "/metrics").body.find("kasten_lexical_index_dirty 1\n"), std::string::npos);

    faults->clear();
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (std::chrono::steady_clock::now() < deadline && health()["status"] != "ok") {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    h = health();
    EXPECT_EQ(h["status"], "ok") << h;
    EXPECT_EQ(h["lexical_index"]["state"], "ok");
    EXPECT_GE(h["lexical_index"]["repairs"], 1);
    EXPECT_EQ(lexical_hits("wombat"), 1u);
    const std::string metrics = call("GET", "/metrics").body;
    EXPECT_NE(metrics.find("kasten_lexical_index_dirty 0\n"), std::string::npos);
    EXPECT_EQ(metrics.find("kasten_lexical_index_repairs_total 0\n"), std::string::npos);
}

}  // namespace
}  // namespace kasten::api
