// The Mem0-compatible routes through ApiService::handle: the requests the official mem0ai client makes, their
// answers, authentication with "Token <key>" and per-cube authorisation.
#include <chrono>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "api/http/api_service.h"
#include "llm/hashing_embedder.h"
#include "memory/heuristic_link_decider.h"
#include "memory/heuristic_note_builder.h"

namespace kasten::api {
namespace {

using nlohmann::json;

constexpr const char* kAliceKey = "key-alice-0001";
constexpr const char* kAdminKey = "key-admin-0001";

class Mem0RoutesTest : public ::testing::Test {
  protected:
    void open(bool notes = true, std::map<std::string, std::vector<std::string>> keys = {}) {
        memory::MemoryOptions options;
        options.in_memory = true;
        options.embedder = std::make_shared<llm::HashingEmbedder>(256);
        if (notes) {
            options.note_builder = std::make_shared<memory::HeuristicNoteBuilder>();
            options.link_decider = std::make_shared<memory::HeuristicLinkDecider>();
        }
        options.background_jobs = true;  // the add route waits for the job thread
        auto m = memory::MemoryManager::open(std::move(options));
        ASSERT_TRUE(m.is_ok()) << m.status().to_string();
        memory_ = std::move(m).value();
        ApiServiceOptions o;
        o.version = "test";
        o.notes = notes ? "heuristic-v1 (links: heuristic-v1)" : "off";
        o.limits = {/*max_query_chars=*/200, /*max_top_k=*/50, /*max_content_chars=*/1000};
        o.api_keys = api_keys_from_map(keys);
        service_ = std::make_unique<ApiService>(*memory_, o);
    }

    HttpResponse call(const std::string& method, const std::string& target, const std::string& body = "",
                      const std::string& key = "") {
        HttpRequest r;
        r.method = method;
        r.target = target;
        r.body = body;
        if (!key.empty()) r.headers["authorization"] = "Token " + key;
        return service_->handle(r);
    }

    json call_json(const std::string& method, const std::string& target, const json& body, int want,
                   const std::string& key = "") {
        HttpResponse r = call(method, target, body.is_null() ? "" : body.dump(), key);
        EXPECT_EQ(r.status, want) << method << " " << target << " -> " << r.body;
        if (r.body.empty()) return json();
        return json::parse(r.body);
    }

    json add(const json& body, const std::string& key = "") {
        return call_json("POST", "/v3/memories/add/", body, 200, key);
    }

    std::unique_ptr<memory::MemoryManager> memory_;
    std::unique_ptr<ApiService> service_;
};

TEST_F(Mem0RoutesTest, PingAnswersOkAndTrailingSlashesMatch) {
    open();
    json ping = call_json("GET", "/v1/ping/", nullptr, 200);
    EXPECT_EQ(ping["status"], "ok");
    EXPECT_EQ(call_json("GET", "/v1/ping", nullptr, 200)["status"], "ok");
    EXPECT_EQ(call("POST", "/v1/ping/").status, 405);
}

TEST_F(Mem0RoutesTest, AddWaitsForTheNoteJobAndScopesItsMemories) {
    open();
    json added = add({{"messages",
                       {{{"role", "user"}, {"content", "I adopted a beagle named Max and I live in Porto."}},
                        {{"role", "assistant"}, {"content", "Congratulations!"}}}},
                      {"user_id", "alice"},
                      {"agent_id", "pet-bot"},
                      {"run_id", "run 1"},
                      {"metadata", {{"channel", "web"}}},
                      {"output_format", "v1.1"}});
    EXPECT_EQ(added["status"], "SUCCEEDED") << added.dump();
    ASSERT_TRUE(added["event_id"].is_string());
    ASSERT_GE(added["results"].size(), 1u) << added.dump();
    bool beagle = false;
    for (const auto& m : added["results"]) {
        EXPECT_EQ(m["event"], "ADD");
        EXPECT_EQ(m["data"]["memory"], m["memory"]);
        EXPECT_EQ(m["user_id"], "alice");
        EXPECT_EQ(m["agent_id"], "pet-bot");
        EXPECT_EQ(m["run_id"], "run 1");
        EXPECT_EQ(m["metadata"], (json{{"channel", "web"}}));
        beagle = beagle || m["memory"].get<std::string>().find("beagle") != std::string::npos;
    }
    EXPECT_TRUE(beagle) << added.dump();

    // kasten's own API sees the same data: cube user:alice, session "run_201" (the escaped run id).
    json cube = call_json("GET", "/v1/cubes/user:alice", nullptr, 200);
    EXPECT_EQ(cube["counts"]["turns"], 2);
    EXPECT_EQ(call("GET", "/v1/cubes/user:alice/sessions/run_201").status, 200);

    json event = call_json("GET", "/v1/event/" + added["event_id"].get<std::string>() + "/", nullptr, 200);
    EXPECT_EQ(event["status"], "SUCCEEDED");

    // The memory by id; its history starts with ADD (the scope tags are not a Mem0 event).
    const std::string id = added["results"][0]["id"];
    json got = call_json("GET", "/v1/memories/" + id + "/", nullptr, 200);
    EXPECT_EQ(got["memory"], added["results"][0]["memory"]);
    json history = call_json("GET", "/v1/memories/" + id + "/history/", nullptr, 200);
    ASSERT_EQ(history.size(), 1u) << history.dump();
    EXPECT_EQ(history[0]["event"], "ADD");
}

TEST_F(Mem0RoutesTest, AsyncModeAnswersPendingAndTheEventTellsWhenDone) {
    open();
    json added =
        add({{"messages", "I started learning the cello in March."}, {"user_id", "alice"}, {"async_mode", true}});
    EXPECT_EQ(added["status"], "PENDING");
    EXPECT_TRUE(added["results"].empty());
    const std::string event_id = added["event_id"];
    ASSERT_TRUE(memory_->wait_for_jobs(10000).is_ok());
    EXPECT_EQ(call_json("GET", "/v1/event/" + event_id + "/", nullptr, 200)["status"], "SUCCEEDED");
    json all = call_json("POST", "/v3/memories/", {{"filters", {{"user_id", "alice"}}}}, 200);
    EXPECT_GE(all["count"].get<int>(), 1);
    // The add's run and metadata reach its notes once the job is done (the routes' worker tags them).
    const json scoped = {{"filters", {{"AND", {{{"user_id", "alice"}}, {{"run_id", "r9"}}}}}}};
    json later = add({{"messages", "I adopted a cat named Miso in April."},
                      {"user_id", "alice"},
                      {"run_id", "r9"},
                      {"metadata", {{"k", "v"}}},
                      {"async_mode", true}});
    EXPECT_EQ(later["status"], "PENDING");
    int tagged = 0;
    for (int i = 0; i < 200 && tagged == 0; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(25));
        tagged = call_json("POST", "/v3/memories/", scoped, 200)["count"].get<int>();
    }
    ASSERT_GE(tagged, 1);
    json note = call_json("POST", "/v3/memories/", scoped, 200)["results"][0];
    EXPECT_NE(note["memory"].get<std::string>().find("Miso"), std::string::npos);
    EXPECT_EQ(note["metadata"], (json{{"k", "v"}}));
}

TEST_F(Mem0RoutesTest, InferFalseStoresMessagesAndNotesOffRefusesInfer) {
    open(/*notes=*/false);
    json added = add({{"messages",
                       {{{"role", "system"}, {"content", "You are helpful."}},
                        {{"role", "user"}, {"content", "Prefers window seats."}}}},
                      {"agent_id", "travel-bot"},
                      {"infer", false}});
    ASSERT_EQ(added["results"].size(), 1u) << added.dump();  // system messages are not memories
    EXPECT_EQ(added["results"][0]["memory"], "Prefers window seats.");
    EXPECT_EQ(added["results"][0]["agent_id"], "travel-bot");
    EXPECT_TRUE(added["results"][0]["user_id"].is_null());
    EXPECT_EQ(call("GET", "/v1/cubes/agent:travel-bot").status, 200);

    HttpResponse refused =
        call("POST", "/v3/memories/add/", json{{"messages", "I like jazz"}, {"user_id", "alice"}}.dump());
    EXPECT_EQ(refused.status, 501) << refused.body;
    EXPECT_NE(refused.body.find("--notes"), std::string::npos);
    EXPECT_EQ(call("GET", "/v1/cubes/user:alice").status, 404);  // nothing stored
}

TEST_F(Mem0RoutesTest, GetAllSearchUpdateDeleteAndDeleteAll) {
    open();
    const json teal = add({{"messages", "My favourite colour is teal."},
                           {"user_id", "alice"},
                           {"agent_id", "stylist"},
                           {"infer", false}})["results"][0];
    add({{"messages", "I am training for the Berlin marathon in September."},
         {"user_id", "alice"},
         {"run_id", "r2"},
         {"infer", false}});
    add({{"messages", "I am training for a triathlon."}, {"user_id", "bob"}, {"infer", false}});

    json all = call_json("POST", "/v3/memories/?page=1&page_size=1", {{"filters", {{"user_id", "alice"}}}}, 200);
    EXPECT_EQ(all["count"], 2);
    EXPECT_EQ(all["results"].size(), 1u);
    EXPECT_TRUE(all["next"].is_string());
    EXPECT_TRUE(all["previous"].is_null());
    json stylist = call_json("POST", "/v3/memories/",
                             {{"filters", {{"AND", {{{"user_id", "alice"}}, {{"agent_id", "stylist"}}}}}}}, 200);
    ASSERT_EQ(stylist["count"], 1);
    EXPECT_EQ(stylist["results"][0]["id"], teal["id"]);
    json nobody = call_json("POST", "/v3/memories/", {{"filters", {{"user_id", "carol"}}}}, 200);
    EXPECT_EQ(nobody["count"], 0);
    HttpResponse across = call("POST", "/v3/memories/", json{{"filters", {{"user_id", "*"}}}}.dump());
    EXPECT_EQ(across.status, 400);
    EXPECT_NE(across.body.find("user_id"), std::string::npos);
    EXPECT_EQ(call("POST", "/v3/memories/", json{{"filters", {{"user_id", "alice"}}}, {"colour", 1}}.dump()).status,
              400);

    json hits = call_json("POST", "/v3/memories/search/",
                          {{"query", "Berlin marathon"}, {"filters", {{"user_id", "alice"}}}, {"top_k", 1}}, 200);
    ASSERT_EQ(hits["results"].size(), 1u);
    EXPECT_NE(hits["results"][0]["memory"].get<std::string>().find("Berlin"), std::string::npos);
    EXPECT_TRUE(hits["results"][0]["score"].is_number());
    json scoped = call_json(
        "POST", "/v3/memories/search/",
        {{"query", "Berlin marathon"}, {"filters", {{"AND", {{{"user_id", "alice"}}, {{"agent_id", "stylist"}}}}}}},
        200);
    ASSERT_EQ(scoped["results"].size(), 1u);  // the marathon note has no agent
    EXPECT_EQ(scoped["results"][0]["id"], teal["id"]);
    json bobs =
        call_json("POST", "/v3/memories/search/", {{"query", "marathon"}, {"filters", {{"user_id", "bob"}}}}, 200);
    for (const auto& h : bobs["results"]) EXPECT_EQ(h["user_id"], "bob");

    const std::string id = teal["id"];
    json updated = call_json("PUT", "/v1/memories/" + id + "/",
                             {{"text", "My favourite colour is green."}, {"metadata", {{"v", 2}}}}, 200);
    EXPECT_EQ(updated["memory"], "My favourite colour is green.");
    EXPECT_EQ(updated["metadata"], (json{{"v", 2}}));
    EXPECT_EQ(updated["agent_id"], "stylist");
    json history = call_json("GET", "/v1/memories/" + id + "/history/", nullptr, 200);
    ASSERT_EQ(history.size(), 2u);
    EXPECT_EQ(history[1]["event"], "UPDATE");
    EXPECT_EQ(history[1]["old_memory"], "My favourite colour is teal.");
    EXPECT_EQ(call("PUT", "/v1/memories/" + id + "/", "{}").status, 400);

    json users = call_json("GET", "/v1/entities/", nullptr, 200);
    EXPECT_EQ(users["count"], 2);

    EXPECT_EQ(call_json("DELETE", "/v1/memories/" + id + "/", nullptr, 200)["message"], "Memory deleted successfully!");
    EXPECT_EQ(call("GET", "/v1/memories/" + id + "/").status, 404);
    EXPECT_EQ(call("DELETE", "/v1/memories/" + id + "/").status, 404);

    // deleteAll with a run: that run's memories (and conversation) only; with the user alone: the whole cube.
    call_json("DELETE", "/v1/memories/?user_id=alice&run_id=r2", nullptr, 200);
    EXPECT_EQ(call_json("POST", "/v3/memories/", {{"filters", {{"user_id", "alice"}}}}, 200)["count"], 0);
    EXPECT_EQ(call("GET", "/v1/cubes/user:alice").status, 200);
    call_json("DELETE", "/v1/memories/?user_id=alice", nullptr, 200);
    EXPECT_EQ(call("GET", "/v1/cubes/user:alice").status, 404);
    EXPECT_EQ(call("DELETE", "/v1/memories/").status, 400);
    call_json("DELETE", "/v2/entities/user/bob/", nullptr, 200);
    EXPECT_EQ(call_json("GET", "/v1/entities/", nullptr, 200)["count"], 0);
}

TEST_F(Mem0RoutesTest, TokenKeysAreCheckedAndCubesAuthorised) {
    open(/*notes=*/true, {{kAliceKey, {"user:alice"}}, {kAdminKey, {"*"}}});
    EXPECT_EQ(call("GET", "/v1/ping/").status, 401);
    EXPECT_EQ(call("GET", "/v1/ping/", "", "wrong-key").status, 401);
    EXPECT_EQ(call("GET", "/v1/ping/", "", kAliceKey).status, 200);

    const json bob = call_json("POST", "/v3/memories/add/",
                               {{"messages", "Bob's secret"}, {"user_id", "bob"}, {"infer", false}}, 200, kAdminKey);
    const std::string bob_id = bob["results"][0]["id"];
    EXPECT_EQ(call("POST", "/v3/memories/add/", json{{"messages", "x"}, {"user_id", "bob"}, {"infer", false}}.dump(),
                   kAliceKey)
                  .status,
              403);
    EXPECT_EQ(call("POST", "/v3/memories/", json{{"filters", {{"user_id", "bob"}}}}.dump(), kAliceKey).status, 403);
    // A memory or event of a cube the key may not use is absent to it.
    EXPECT_EQ(call("GET", "/v1/memories/" + bob_id + "/", "", kAliceKey).status, 404);
    EXPECT_EQ(call("DELETE", "/v1/memories/" + bob_id + "/", "", kAliceKey).status, 404);
    EXPECT_EQ(call("GET", "/v1/memories/" + bob_id + "/", "", kAdminKey).status, 200);
    EXPECT_EQ(call_json("GET", "/v1/entities/", nullptr, 200, kAliceKey)["count"], 0);
    EXPECT_EQ(call_json("GET", "/v1/entities/", nullptr, 200, kAdminKey)["count"], 1);
}

}  // namespace
}  // namespace kasten::api
