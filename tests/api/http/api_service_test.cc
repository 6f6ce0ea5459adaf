#include "api/http/api_service.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <thread>
#include <vector>

#include "llm/hashing_embedder.h"

namespace kasten::api {
namespace {

using nlohmann::json;

class ApiServiceTest : public ::testing::Test {
  protected:
    void open(std::map<std::string, std::vector<std::string>> keys = {}) {
        memory::MemoryOptions options;
        options.in_memory = true;
        options.embedder = std::make_shared<llm::HashingEmbedder>(64);
        options.clock = &clock_;
        auto m = memory::MemoryManager::open(std::move(options));
        ASSERT_TRUE(m.is_ok()) << m.status().to_string();
        memory_ = std::move(m).value();
        ApiServiceOptions o;
        o.version = "test";
        o.data_dir = "/nowhere";
        o.embedder_dim = 64;
        o.limits = {/*max_query_chars=*/200, /*max_top_k=*/20, /*max_content_chars=*/1000};
        o.max_body_bytes = 64 * 1024;
        o.api_keys = api_keys_from_map(keys);
        o.max_active_requests = max_active_;
        service_ = std::make_unique<ApiService>(*memory_, o);
    }

    HttpResponse call(const std::string& method, const std::string& target, const std::string& body = "",
                      const std::string& key = "") {
        HttpRequest r;
        r.method = method;
        r.target = target;
        r.body = body;
        if (!key.empty()) r.headers["authorization"] = "Bearer " + key;
        return service_->handle(r);
    }

    json call_json(const std::string& method, const std::string& target, const std::string& body, int want,
                   const std::string& key = "") {
        HttpResponse r = call(method, target, body, key);
        EXPECT_EQ(r.status, want) << method << " " << target << " -> " << r.body;
        if (r.body.empty()) return json();
        return json::parse(r.body);
    }

    // The response is an error with the given HTTP status and type, in the standard body.
    void expect_error(const HttpResponse& r, int status, const std::string& type, const std::string& needle = "") {
        EXPECT_EQ(r.status, status) << r.body;
        json j = json::parse(r.body, nullptr, false);
        ASSERT_TRUE(j.is_object()) << r.body;
        EXPECT_EQ(j["error"]["code"], status);
        EXPECT_EQ(j["error"]["type"], type);
        if (!needle.empty()) {
            EXPECT_NE(j["error"]["message"].get<std::string>().find(needle), std::string::npos) << r.body;
        }
    }

    json counts(const std::string& cube) { return call_json("GET", "/v1/cubes/" + cube, "", 200)["counts"]; }
    json counts_with_key(const std::string& cube, const std::string& key) {
        return call_json("GET", "/v1/cubes/" + cube, "", 200, key)["counts"];
    }

    FakeClock clock_{1717000000000};
    int max_active_ = 0;  // ApiServiceOptions::max_active_requests of open()
    std::unique_ptr<memory::MemoryManager> memory_;
    std::unique_ptr<ApiService> service_;
};

TEST_F(ApiServiceTest, Healthz) {
    open();
    for (const char* path : {"/healthz", "/v1/healthz"}) {
        json j = call_json("GET", path, "", 200);
        EXPECT_EQ(j["status"], "ok");
        EXPECT_EQ(j["version"], "test");
        EXPECT_EQ(j["embedder"], "hashing-v1-64");
        EXPECT_EQ(j["dim"], 64);
        EXPECT_EQ(j["data_dir"], "/nowhere");
        EXPECT_EQ(j["auth"], false);
    }
}

TEST_F(ApiServiceTest, UnknownRoutesAndMethods) {
    open();
    expect_error(call("GET", "/v2/cubes"), 404, "not_found", "no route");
    expect_error(call("GET", "/v1/cubes/demo/unknown"), 404, "not_found");
    HttpResponse r = call("PUT", "/v1/cubes/demo");
    expect_error(r, 405, "not_supported", "allowed: GET, DELETE");
    ASSERT_EQ(r.headers.size(), 1u);
    EXPECT_EQ(r.headers[0].first, "Allow");
    EXPECT_EQ(r.headers[0].second, "GET, DELETE");
    expect_error(call("GET", "/v1/cubes/a%zz"), 400, "invalid_argument");
    expect_error(call("GET", "/v1/cubes?x=1"), 400, "invalid_argument", "unknown query parameter 'x'");
}

TEST_F(ApiServiceTest, ConversationNoteAndCubeLifecycle) {
    open();
    json cube = call_json("POST", "/v1/cubes", R"({"id":"demo","name":"Demo"})", 201);
    EXPECT_EQ(cube["id"], "demo");
    EXPECT_EQ(cube["name"], "Demo");
    expect_error(call("POST", "/v1/cubes", R"({"id":"demo"})"), 409, "already_exists");

    json added = call_json("POST", "/v1/cubes/demo/memories",
                           R"({"session_id":"trip","messages":[
                               {"role":"user","content":"I moved to Lisbon last spring","time":"2024-05-30T14:00:00Z"},
                               {"role":"assistant","content":"Lisbon is lovely in May"}]})",
                           201);
    EXPECT_EQ(added["session_id"], "trip");
    ASSERT_EQ(added["turn_ids"].size(), 2u);
    const std::string turn_id = added["turn_ids"][0];

    json turn = call_json("GET", "/v1/cubes/demo/turns/" + turn_id, "", 200);
    EXPECT_EQ(turn["content"], "I moved to Lisbon last spring");
    EXPECT_EQ(turn["time"], "2024-05-30T14:00:00Z");
    EXPECT_EQ(call_json("GET", "/v1/cubes/demo/turns?limit=1", "", 200)["turns"].size(), 1u);
    json session = call_json("GET", "/v1/cubes/demo/sessions/trip", "", 200);
    EXPECT_EQ(session["turns"].size(), 2u);
    EXPECT_EQ(call_json("GET", "/v1/cubes/demo/sessions", "", 200)["sessions"][0]["session_id"], "trip");

    json hits = call_json("POST", "/v1/cubes/demo/search", R"({"query":"Lisbon spring","top_k":5})", 200);
    ASSERT_FALSE(hits["hits"].empty());
    EXPECT_EQ(hits["hits"][0]["id"], turn_id);
    EXPECT_TRUE(hits.contains("took_ms"));
    for (const auto& h : hits["hits"]) {
        EXPECT_GT(h["score"].get<double>(), 0.0);
        EXPECT_LE(h["score"].get<double>(), 1.0);
    }
    // Scores are calibrated: a query that shares nothing with the cube lists nothing under the default min_score,
    // and a min_score no hit reaches lists nothing either.
    EXPECT_TRUE(
        call_json("POST", "/v1/cubes/demo/search", R"({"query":"quantum chromodynamics"})", 200)["hits"].empty());
    EXPECT_TRUE(
        call_json("POST", "/v1/cubes/demo/search", R"({"query":"Lisbon spring","min_score":1})", 200)["hits"].empty());

    json note = call_json(
        "POST", "/v1/cubes/demo/memories",
        R"({"content":"Lives in Lisbon","kind":"fact","tags":["home"],"source_turn_ids":[")" + turn_id + R"("]})", 201);
    const std::string note_id = note["id"];
    EXPECT_EQ(note["version"], 1);
    json patched = call_json("PATCH", "/v1/cubes/demo/memories/" + note_id, R"({"content":"Lives in Porto"})", 200);
    EXPECT_EQ(patched["content"], "Lives in Porto");
    EXPECT_EQ(patched["version"], 2);
    json history = call_json("GET", "/v1/cubes/demo/memories/" + note_id + "/history", "", 200);
    ASSERT_GE(history["versions"].size(), 2u);
    EXPECT_EQ(history["versions"][0]["content"], "Lives in Lisbon");
    EXPECT_EQ(history["versions"].back()["content"], "Lives in Porto");
    EXPECT_TRUE(call_json("GET", "/v1/cubes/demo/memories/" + note_id + "/links", "", 200)["links"].is_array());
    EXPECT_EQ(call_json("GET", "/v1/cubes/demo/memories?status=active", "", 200)["memories"].size(), 1u);
    EXPECT_EQ(counts("demo")["notes"], 1);
    EXPECT_EQ(counts("demo")["turns"], 2);

    HttpResponse exported = call("GET", "/v1/cubes/demo/export");
    EXPECT_EQ(exported.status, 200);
    EXPECT_EQ(exported.content_type, "application/x-ndjson");
    // A restore keeps entity ids, so it cannot live beside its original in one store; the default gives new ids.
    expect_error(call("POST", "/v1/cubes/demo-copy/import?ids=keep", exported.body), 409, "already_exists");
    expect_error(call("GET", "/v1/cubes/demo-copy"), 404, "not_found");
    expect_error(call("POST", "/v1/cubes/demo-copy/import?ids=maybe", exported.body), 400, "invalid_argument");
    expect_error(call("POST", "/v1/cubes/demo-copy/import?idz=new", exported.body), 400, "invalid_argument");
    json copy = call_json("POST", "/v1/cubes/demo-clone/import", exported.body, 201);
    EXPECT_EQ(copy["turns"], 2);
    ASSERT_EQ(copy["id_map"].size(),
              copy["sessions"].get<size_t>() + copy["turns"].get<size_t>() + copy["notes"].get<size_t>());
    EXPECT_EQ(copy["id_map"][note_id].get<std::string>().rfind("n_", 0), 0u);
    EXPECT_NE(copy["id_map"][note_id], note_id);
    EXPECT_EQ(call("DELETE", "/v1/cubes/demo-clone").status, 204);

    EXPECT_EQ(call("DELETE", "/v1/cubes/demo/memories/" + note_id).status, 204);
    expect_error(call("GET", "/v1/cubes/demo/memories/" + note_id), 404, "not_found");
    EXPECT_EQ(call("DELETE", "/v1/cubes/demo/turns/" + turn_id).status, 204);
    EXPECT_EQ(counts("demo")["turns"], 1);
    EXPECT_EQ(call("DELETE", "/v1/cubes/demo/sessions/trip").status, 204);
    EXPECT_EQ(counts("demo")["turns"], 0);
    HttpResponse deleted = call("DELETE", "/v1/cubes/demo");
    EXPECT_EQ(deleted.status, 204);
    EXPECT_TRUE(deleted.body.empty());
    expect_error(call("GET", "/v1/cubes/demo"), 404, "not_found");
    json summary = call_json("POST", "/v1/cubes/demo-copy/import?ids=keep", exported.body, 201);
    EXPECT_EQ(summary["cube_id"], "demo-copy");
    EXPECT_EQ(summary["turns"], 2);
    EXPECT_EQ(summary["sessions"], 1);
    EXPECT_EQ(summary["notes"], 1);
    EXPECT_EQ(counts("demo-copy")["notes"], 1);
    expect_error(call("POST", "/v1/cubes/demo-copy/import", exported.body), 409, "already_exists");  // the cube
    json cubes = call_json("GET", "/v1/cubes", "", 200)["cubes"];
    ASSERT_EQ(cubes.size(), 1u);
    EXPECT_EQ(cubes[0]["id"], "demo-copy");
}

TEST_F(ApiServiceTest, ContextPacksTheCubeUnderTheBudgetAndRejectsBadRequestsNamingTheField) {
    open();
    call_json("POST", "/v1/cubes/ctx/memories",
              R"({"session_id":"s1","messages":[{"role":"user","content":"My passport is in the blue folder.",)"
              R"("time":"2024-01-02T09:00:00Z"}]})",
              201);
    json c = call_json("POST", "/v1/cubes/ctx/context", R"({"query":"where is my passport","token_budget":300})", 200);
    EXPECT_EQ(c["mode"], "full");
    EXPECT_LE(c["tokens"].get<int>(), 300);
    EXPECT_EQ(c["token_counter"], "estimate");
    ASSERT_EQ(c["items"].size(), 1u);
    EXPECT_EQ(c["items"][0]["session_id"], "s1");
    EXPECT_NE(c["text"].get<std::string>().find("blue folder"), std::string::npos);
    // The query may come from the conversation's last user message.
    c = call_json("POST", "/v1/cubes/ctx/context",
                  R"({"conversation":[{"role":"user","content":"where is my passport?"}],"full_history":false})", 200);
    EXPECT_EQ(c["mode"], "packed");
    EXPECT_NE(c["text"].get<std::string>().find("blue folder"), std::string::npos);

    expect_error(call("POST", "/v1/cubes/ctx/context", R"({"token_budget":100})"), 400, "invalid_argument", "query");
    expect_error(call("POST", "/v1/cubes/ctx/context", R"({"query":"x","token_budget":0})"), 400, "invalid_argument",
                 "token_budget");
    expect_error(call("POST", "/v1/cubes/ctx/context", R"({"query":"x","strategy":"paragraph"})"), 400,
                 "invalid_argument", "strategy");
    expect_error(call("POST", "/v1/cubes/ctx/context", R"({"query":"x","budget":10})"), 400, "invalid_argument",
                 "budget");
    expect_error(call("POST", "/v1/cubes/ctx/context", R"({"conversation":[{"role":"robot","content":"hi"}]})"), 400,
                 "invalid_argument", "conversation[0].role");
    expect_error(call("POST", "/v1/cubes/nobody/context", R"({"query":"x"})"), 404, "not_found");

    // Hostile input: a budget past the limit, nesting past 32 levels, an oversized query, too many messages.
    expect_error(call("POST", "/v1/cubes/ctx/context", R"({"query":"x","token_budget":1048577})"), 400,
                 "invalid_argument", "token_budget");
    expect_error(call("POST", "/v1/cubes/ctx/context",
                      R"({"query":"x","conversation":)" + std::string(40, '[') + std::string(40, ']') + "}"),
                 400, "invalid_argument", "nests deeper");
    expect_error(call("POST", "/v1/cubes/ctx/context", R"({"query":")" + std::string(300, 'a') + R"("})"), 400,
                 "invalid_argument", "query");
    std::string many = R"({"conversation":[)";
    for (int i = 0; i < 1001; ++i) many += std::string(i ? "," : "") + R"({"role":"user","content":"hi"})";
    expect_error(call("POST", "/v1/cubes/ctx/context", many + "]}"), 400, "invalid_argument", "conversation");
}

TEST_F(ApiServiceTest, AddingMessagesCreatesTheCubeButNotesNeedIt) {
    open();
    call_json("POST", "/v1/cubes/fresh/memories", R"({"messages":[{"role":"user","content":"hi"}]})", 201);
    EXPECT_EQ(counts("fresh")["turns"], 1);
    expect_error(call("POST", "/v1/cubes/missing/memories", R"({"content":"a note"})"), 404, "not_found");
}

TEST_F(ApiServiceTest, RejectedRequestsStoreNothing) {
    open();
    call_json("POST", "/v1/cubes/c/memories", R"({"messages":[{"role":"user","content":"first"}]})", 201);
    const std::vector<std::pair<std::string, std::string>> bad = {
        {"{not json", "not valid JSON"},
        {R"({"messages":[{"role":"user","content":7}]})", "messages[0].content"},
        {R"({"messages":[{"role":"user"}]})", "messages[0].content"},
        {R"({"messages":[{"role":"user","content":"x"}],"extra":1})", "unknown field 'extra'"},
        {"{\"messages\":[{\"role\":\"user\",\"content\":\"\xff\"}]}", "UTF-8"},
        {R"({"messages":[{"role":"user","content":"ok"},{"role":"user","content":"x","time":"noon"}]})",
         "messages[1].time"},
        {R"({"messages":[{"role":"user","content":"x"}],"content":"y"})", "not both"},
    };
    for (const auto& [body, needle] : bad) {
        expect_error(call("POST", "/v1/cubes/c/memories", body), 400, "invalid_argument", needle);
    }
    expect_error(call("POST", "/v1/cubes/c/memories", std::string(70 * 1024, ' ')), 413, "resource_exhausted");
    expect_error(call("POST", "/v1/cubes/c/search", R"({"query":")" + std::string(201, 'q') + R"("})"), 400,
                 "invalid_argument", "query");
    expect_error(call("POST", "/v1/cubes/c/search", R"({"query":"q","top_k":21})"), 400, "invalid_argument", "top_k");
    expect_error(call("POST", "/v1/cubes/c/search", R"({"query":"q","top_k":0})"), 400, "invalid_argument", "top_k");
    expect_error(call("POST", "/v1/cubes/c/search", R"({"query":"q","min_score":1.5})"), 400, "invalid_argument",
                 "min_score");
    expect_error(call("POST", "/v1/cubes/c/search", R"({"query":"q","min_score":"high"})"), 400, "invalid_argument",
                 "min_score");
    expect_error(call("GET", "/v1/cubes/c/turns?limit=0"), 400, "invalid_argument", "limit");
    expect_error(call("GET", "/v1/cubes/c/turns?offset=-2"), 400, "invalid_argument", "offset");
    expect_error(call("GET", "/v1/cubes/c/memories?status=gone"), 400, "invalid_argument", "status");
    expect_error(call("GET", "/v1/cubes/c", "{\"x\":1}"), 400, "invalid_argument", "no request body");
    expect_error(call("POST", "/v1/cubes/c/import", ""), 400, "invalid_argument");
    expect_error(call("POST", "/v1/cubes/other/import", "{\"type\":\"nonsense\"}\n"), 400, "invalid_argument");
    EXPECT_EQ(counts("c")["turns"], 1);
    EXPECT_EQ(counts("c")["sessions"], 1);
    expect_error(call("GET", "/v1/cubes/other"), 404, "not_found");
}

TEST_F(ApiServiceTest, QuotesAndSqlAreStoredVerbatim) {
    open();
    const std::string nasty = "Robert'); DROP TABLE turns;-- \"x\" \\ %_ ' OR 1=1 --";
    json cube = call_json("POST", "/v1/cubes", json({{"id", "c"}, {"name", nasty}}).dump(), 201);
    EXPECT_EQ(cube["name"], nasty);
    json body = {{"session_id", "s1"}, {"messages", {{{"role", "user"}, {"content", nasty}}}}};
    json added = call_json("POST", "/v1/cubes/c/memories", body.dump(), 201);
    // Session ids are identifiers: quotes make them invalid (and nothing is stored).
    body["session_id"] = "s'; DROP TABLE sessions;--";
    expect_error(call("POST", "/v1/cubes/c/memories", body.dump()), 400, "invalid_argument", "session_id");
    EXPECT_EQ(counts("c")["turns"], 1);
    json turn = call_json("GET", "/v1/cubes/c/turns/" + added["turn_ids"][0].get<std::string>(), "", 200);
    EXPECT_EQ(turn["content"], nasty);
    json note = call_json(
        "POST", "/v1/cubes/c/memories",
        json({{"content", nasty}, {"context", nasty}, {"tags", {nasty}}, {"keywords", {nasty}}, {"kind", "fact' --"}})
            .dump(),
        201);
    EXPECT_EQ(note["content"], nasty);
    EXPECT_EQ(note["context"], nasty);
    EXPECT_EQ(note["tags"][0], nasty);
    EXPECT_EQ(note["kind"], "fact' --");
    json hits = call_json("POST", "/v1/cubes/c/search", json({{"query", nasty}}).dump(), 200);
    EXPECT_FALSE(hits["hits"].empty());
}

TEST_F(ApiServiceTest, KeysConfineCallersToTheirCubes) {
    open({{"key-aaaa-1111", {"A"}}, {"key-bbbb-2222", {"B"}}, {"key-root-3333", {"*"}}});
    const std::string a = "key-aaaa-1111", b = "key-bbbb-2222", root = "key-root-3333";
    EXPECT_EQ(call_json("GET", "/healthz", "", 200)["auth"], true);
    expect_error(call("GET", "/v1/cubes"), 401, "unauthenticated");
    expect_error(call("GET", "/v1/cubes", "", "wrong-key-0000"), 401, "unauthenticated");
    HttpResponse unauth = call("GET", "/v1/cubes/A");
    EXPECT_EQ(unauth.headers.at(0).first, "WWW-Authenticate");

    call_json("POST", "/v1/cubes", R"({"id":"A"})", 201, a);
    expect_error(call("POST", "/v1/cubes", R"({"id":"B"})", a), 403, "permission_denied");
    call_json("POST", "/v1/cubes", R"({"id":"B"})", 201, b);
    json added =
        call_json("POST", "/v1/cubes/B/memories", R"({"messages":[{"role":"user","content":"secret"}]})", 201, b);
    const std::string turn = added["turn_ids"][0];
    json note = call_json("POST", "/v1/cubes/B/memories", R"({"content":"B's note"})", 201, b);
    const std::string note_id = note["id"];
    const json before = counts_with_key("B", b);

    const std::vector<std::tuple<std::string, std::string, std::string>> routes = {
        {"GET", "/v1/cubes/B", ""},
        {"DELETE", "/v1/cubes/B", ""},
        {"POST", "/v1/cubes/B/memories", R"({"messages":[{"role":"user","content":"x"}]})"},
        {"GET", "/v1/cubes/B/memories", ""},
        {"GET", "/v1/cubes/B/memories/" + note_id, ""},
        {"PATCH", "/v1/cubes/B/memories/" + note_id, R"({"content":"hacked"})"},
        {"DELETE", "/v1/cubes/B/memories/" + note_id, ""},
        {"GET", "/v1/cubes/B/memories/" + note_id + "/history", ""},
        {"GET", "/v1/cubes/B/memories/" + note_id + "/links", ""},
        {"GET", "/v1/cubes/B/sessions", ""},
        {"GET", "/v1/cubes/B/sessions/" + added["session_id"].get<std::string>(), ""},
        {"DELETE", "/v1/cubes/B/sessions/" + added["session_id"].get<std::string>(), ""},
        {"GET", "/v1/cubes/B/turns", ""},
        {"GET", "/v1/cubes/B/turns/" + turn, ""},
        {"DELETE", "/v1/cubes/B/turns/" + turn, ""},
        {"POST", "/v1/cubes/B/search", R"({"query":"secret"})"},
        {"GET", "/v1/cubes/B/export", ""},
        {"POST", "/v1/cubes/B/import", "{}\n"},
        {"GET", "/v1/cubes/nonexistent", ""},
    };
    for (const auto& [method, path, body] : routes) {
        SCOPED_TRACE(method + " " + path);
        expect_error(call(method, path, body, a), 403, "permission_denied");
    }
    json listed = call_json("GET", "/v1/cubes", "", 200, a)["cubes"];
    ASSERT_EQ(listed.size(), 1u);
    EXPECT_EQ(listed[0]["id"], "A");
    EXPECT_EQ(call_json("GET", "/v1/cubes", "", 200, root)["cubes"].size(), 2u);
    EXPECT_EQ(counts_with_key("B", b), before);
    EXPECT_EQ(call_json("GET", "/v1/cubes/B/memories/" + note_id, "", 200, b)["content"], "B's note");

    // X-API-Key works as well.
    HttpRequest r;
    r.method = "GET";
    r.target = "/v1/cubes/A";
    r.headers["x-api-key"] = a;
    EXPECT_EQ(service_->handle(r).status, 200);
}

// The metrics count requests of every cube: with keys configured any valid key may read them, nobody else.
TEST_F(ApiServiceTest, MetricsNeedAKeyWhenKeysAreConfigured) {
    open({{"key-aaaa-1111", {"A"}}});
    HttpResponse anonymous = call("GET", "/metrics");
    expect_error(anonymous, 401, "unauthenticated");
    EXPECT_EQ(anonymous.body.find("kasten_http_requests_total"), std::string::npos);
    expect_error(call("GET", "/metrics", "", "key-wrong-0000"), 401, "unauthenticated");
    HttpResponse keyed = call("GET", "/metrics", "", "key-aaaa-1111");
    EXPECT_EQ(keyed.status, 200) << keyed.body;
    EXPECT_NE(keyed.body.find("kasten_http_requests_total"), std::string::npos);
    EXPECT_EQ(call("GET", "/healthz").status, 200);  // health stays open
}

// With one request doing memory work at a time, concurrent adds and searches all complete, in turn, and the metrics
// show the gate; without a limit the gate's gauges are absent.
TEST_F(ApiServiceTest, ALimitOnActiveRequestsServesEveryRequestInTurn) {
    max_active_ = 1;
    open();
    constexpr int kThreads = 4;
    constexpr int kRounds = 10;
    std::vector<std::thread> threads;
    std::vector<int> failures(kThreads, 0);
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < kRounds; ++i) {
                const std::string cube = "c" + std::to_string(t % 2);
                if (call("POST", "/v1/cubes/" + cube + "/memories",
                         R"({"messages":[{"role":"user","content":"turn )" + std::to_string(i) + R"( of the day"}]})")
                        .status != 201) {
                    ++failures[t];
                }
                if (call("POST", "/v1/cubes/" + cube + "/search", R"({"query":"turn of the day"})").status != 200) {
                    ++failures[t];
                }
            }
        });
    }
    for (auto& th : threads) th.join();
    for (int t = 0; t < kThreads; ++t) EXPECT_EQ(failures[t], 0) << "thread " << t;
    EXPECT_EQ(counts("c0")["turns"], kRounds * kThreads / 2);
    HttpResponse m = call("GET", "/metrics");
    EXPECT_NE(m.body.find("kasten_http_requests_active 0\n"), std::string::npos) << m.body;
    EXPECT_NE(m.body.find("kasten_http_requests_waiting 0\n"), std::string::npos);
    EXPECT_NE(m.body.find("kasten_http_requests_waited_total "), std::string::npos);

    service_.reset();
    max_active_ = 0;
    open();
    EXPECT_EQ(call("GET", "/metrics").body.find("kasten_http_requests_active"), std::string::npos);
}

TEST_F(ApiServiceTest, MetricsCountRequestsPerRoute) {
    open();
    call("GET", "/v1/cubes");
    call("GET", "/v1/cubes");
    call("GET", "/nope");
    call("POST", "/v1/cubes/x/memories", R"({"messages":[{"role":"user","content":"hi"}]})");
    service_->transport_error("POST", 413, "too large");
    HttpResponse m = call("GET", "/metrics");
    EXPECT_EQ(m.status, 200);
    EXPECT_NE(m.content_type.find("text/plain"), std::string::npos);
    EXPECT_NE(m.body.find(R"(kasten_http_requests_total{method="GET",route="/v1/cubes",code="200"} 2)"),
              std::string::npos)
        << m.body;
    EXPECT_NE(m.body.find(R"(kasten_http_requests_total{method="GET",route="unmatched",code="404"} 1)"),
              std::string::npos);
    EXPECT_NE(m.body.find(R"(kasten_http_requests_total{method="POST",route="unmatched",code="413"} 1)"),
              std::string::npos);
    EXPECT_NE(m.body.find(R"(route="/v1/cubes/{cube}/memories",code="201"} 1)"), std::string::npos);
    EXPECT_NE(m.body.find("kasten_cubes 1\n"), std::string::npos);
    EXPECT_NE(m.body.find("kasten_turns_added_total 1\n"), std::string::npos);
    EXPECT_NE(m.body.find("kasten_http_request_duration_seconds_bucket{route=\"/v1/cubes\",le=\"+Inf\"} 2"),
              std::string::npos);
}

}  // namespace
}  // namespace kasten::api
