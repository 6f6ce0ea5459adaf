// End-to-end tests of `kasten serve` as a separate process, over HTTP.
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>
#include <set>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/api/integration/http_client.h"
#include "tests/api/integration/kasten_process.h"

namespace kasten::api::testing {
namespace {

using nlohmann::json;

const std::vector<std::string> kRetrievers = {"lexical", "vector", "hybrid"};

class ServeIntegrationTest : public ::testing::Test {
  protected:
    static void SetUpTestSuite() { signal(SIGPIPE, SIG_IGN); }
};

json ok_json(const HttpReply& r, int want) {
    EXPECT_EQ(r.status, want) << r.body;
    return r.json();
}

// The ids of the hits of a search.
std::vector<std::string> search_ids(TestClient& c, const std::string& cube, const std::string& query,
                                    const std::string& granularity, const std::string& retriever, int top_k = 20) {
    json body = {{"query", query}, {"granularity", granularity}, {"retriever", retriever}, {"top_k", top_k}};
    HttpReply r = c.post("/v1/cubes/" + cube + "/search", body.dump());
    EXPECT_EQ(r.status, 200) << granularity << "/" << retriever << ": " << r.body;
    std::vector<std::string> ids;
    json j = r.json();
    if (!j.is_object() || !j["hits"].is_array()) return ids;
    for (const auto& h : j["hits"]) {
        EXPECT_EQ(h["granularity"], granularity);
        ids.push_back(h["id"].get<std::string>());
    }
    return ids;
}

bool contains(const std::vector<std::string>& v, const std::string& x) {
    return std::find(v.begin(), v.end(), x) != v.end();
}

// The error body of a failed request: {"error":{"code":status,"type":type,"message":...}}.
void expect_error(const HttpReply& r, int status, const std::string& type = "") {
    EXPECT_EQ(r.status, status) << r.body;
    EXPECT_NE(r.content_type.find("application/json"), std::string::npos) << r.content_type;
    json j = r.json();
    ASSERT_TRUE(j.is_object()) << "not a JSON error body: " << r.body.substr(0, 200);
    EXPECT_EQ(j["error"]["code"], status);
    EXPECT_TRUE(j["error"]["type"].is_string());
    if (!type.empty()) {
        EXPECT_EQ(j["error"]["type"], type) << r.body;
    }
    EXPECT_FALSE(j["error"]["message"].get<std::string>().empty());
}

json cube_counts(TestClient& c, const std::string& cube) {
    return ok_json(c.get("/v1/cubes/" + cube), 200)["counts"];
}

TEST_F(ServeIntegrationTest, AddSearchPatchHistoryDeleteAcrossEveryIndex) {
    TempDir dir("kasten-it-lifecycle");
    // Notes off: this test counts exactly the notes it writes (NotesAreBuiltInTheBackground covers built ones).
    auto server = KastenServer::start(dir.path(), {"--notes", "off"});
    ASSERT_TRUE(server);
    TestClient c(server->port());

    json health = ok_json(c.get("/healthz"), 200);
    EXPECT_EQ(health["status"], "ok");
    EXPECT_EQ(health["auth"], false);
    EXPECT_EQ(health["data_dir"], dir.path());
    EXPECT_EQ(health["embedder"].get<std::string>().rfind("hashing", 0), 0u);

    ok_json(c.post("/v1/cubes", R"({"id":"life","name":"Life"})"), 201);
    json s1 = ok_json(c.post("/v1/cubes/life/memories", R"({"session_id":"s1","time":"2024-03-01T10:00:00Z",
        "messages":[{"role":"user","content":"I adopted a quokka named Ziggy on Rottnest island"},
                    {"role":"assistant","content":"What a lovely animal to look after"}]})"),
                      201);
    ok_json(c.post("/v1/cubes/life/memories", R"({"session_id":"s2","time":"2024-04-01T10:00:00Z",
        "messages":[{"role":"user","content":"My favourite pastry is the pastel de nata from Belem"},
                    {"role":"assistant","content":"Custard tarts are hard to beat"}]})"),
            201);
    const std::string turn_id = s1["turn_ids"][0];

    for (const auto& r : kRetrievers) {
        SCOPED_TRACE(r);
        EXPECT_TRUE(contains(search_ids(c, "life", "quokka Ziggy Rottnest", "turn", r), turn_id));
        EXPECT_TRUE(contains(search_ids(c, "life", "quokka Ziggy Rottnest", "session", r), "s1"));
    }
    EXPECT_EQ(search_ids(c, "life", "quokka Ziggy Rottnest", "turn", "lexical").at(0), turn_id);

    json note = ok_json(
        c.post("/v1/cubes/life/memories",
               R"({"content":"Has a pet quokka called Ziggy","kind":"fact","source_turn_ids":[")" + turn_id + R"("]})"),
        201);
    const std::string note_id = note["id"];
    for (const auto& r : kRetrievers) {
        EXPECT_TRUE(contains(search_ids(c, "life", "pet quokka Ziggy", "note", r), note_id)) << r;
    }

    json patched =
        ok_json(c.patch("/v1/cubes/life/memories/" + note_id, R"({"content":"Has a pet wombat called Ziggy"})"), 200);
    EXPECT_EQ(patched["version"], 2);
    json history = ok_json(c.get("/v1/cubes/life/memories/" + note_id + "/history"), 200);
    ASSERT_GE(history["versions"].size(), 2u);
    EXPECT_EQ(history["versions"][0]["content"], "Has a pet quokka called Ziggy");
    EXPECT_EQ(history["versions"].back()["content"], "Has a pet wombat called Ziggy");
    EXPECT_TRUE(contains(search_ids(c, "life", "wombat", "note", "lexical"), note_id));
    EXPECT_FALSE(contains(search_ids(c, "life", "quokka", "note", "lexical"), note_id));

    EXPECT_EQ(c.del("/v1/cubes/life/memories/" + note_id).status, 204);
    expect_error(c.get("/v1/cubes/life/memories/" + note_id), 404, "not_found");
    expect_error(c.get("/v1/cubes/life/memories/" + note_id + "/history"), 404, "not_found");
    EXPECT_TRUE(ok_json(c.get("/v1/cubes/life/memories"), 200)["memories"].empty());
    for (const auto& r : kRetrievers) {
        EXPECT_FALSE(contains(search_ids(c, "life", "pet wombat Ziggy", "note", r), note_id)) << r;
    }

    EXPECT_EQ(c.del("/v1/cubes/life/turns/" + turn_id).status, 204);
    expect_error(c.get("/v1/cubes/life/turns/" + turn_id), 404, "not_found");
    for (const auto& r : kRetrievers) {
        SCOPED_TRACE(r);
        EXPECT_FALSE(contains(search_ids(c, "life", "quokka Ziggy Rottnest", "turn", r), turn_id));
        json hits =
            ok_json(c.post("/v1/cubes/life/search",
                           json({{"query", "quokka Ziggy"}, {"granularity", "session"}, {"retriever", r}}).dump()),
                    200)["hits"];
        for (const auto& h : hits) {
            EXPECT_EQ(h["text"].get<std::string>().find("quokka"), std::string::npos) << h.dump();
            EXPECT_FALSE(contains(h["turn_ids"].get<std::vector<std::string>>(), turn_id));
        }
    }
    json counts = cube_counts(c, "life");
    EXPECT_EQ(counts["turns"], 3);
    EXPECT_EQ(counts["sessions"], 2);
    EXPECT_EQ(counts["notes"], 0);
    json turns = ok_json(c.get("/v1/cubes/life/turns?limit=100"), 200)["turns"];
    EXPECT_EQ(turns.size(), 3u);

    HttpReply metrics = c.get("/metrics");
    EXPECT_EQ(metrics.status, 200);
    EXPECT_NE(metrics.body.find("kasten_http_requests_total{method=\"POST\",route=\"/v1/cubes/{cube}/search\""),
              std::string::npos);
    EXPECT_NE(metrics.body.find("kasten_searches_total"), std::string::npos);

    EXPECT_EQ(server->stop(), 0) << server->log();
    const std::string log = server->log();
    EXPECT_NE(log.find("listening on http://127.0.0.1:" + std::to_string(server->port())), std::string::npos) << log;
    EXPECT_NE(log.find("embedder: hashing"), std::string::npos) << log;
    EXPECT_NE(log.find("no API keys configured"), std::string::npos) << log;

    // The indexes left on disk by a graceful stop agree with the store without any repair.
    CommandResult check = run_kasten({"reindex", "--check-only", "--data-dir", dir.path(), "--embedder", "hashing"});
    EXPECT_EQ(check.exit_code, 0) << check.out << check.err;
    EXPECT_NE(check.out.find("consistency: OK"), std::string::npos) << check.out;
}

TEST_F(ServeIntegrationTest, KeysIsolateCubesOnEveryRoute) {
    TempDir dir("kasten-it-isolation");
    const std::string key_a = "key-aaaa-1111", key_b = "key-bbbb-2222";
    // With keys, a non-loopback address is allowed.
    auto server = KastenServer::start(dir.path(), {"--host", "0.0.0.0", "--api-keys", key_a + "=A;" + key_b + "=B"});
    ASSERT_TRUE(server);
    TestClient a(server->port(), key_a), b(server->port(), key_b), anonymous(server->port());

    expect_error(anonymous.get("/v1/cubes"), 401, "unauthenticated");
    expect_error(TestClient(server->port(), "key-wrong-0000").get("/v1/cubes/A"), 401, "unauthenticated");
    EXPECT_EQ(ok_json(anonymous.get("/healthz"), 200)["auth"], true);

    ok_json(a.post("/v1/cubes", R"({"id":"A"})"), 201);
    ok_json(b.post("/v1/cubes", R"({"id":"B","name":"Bee"})"), 201);
    json added = ok_json(b.post("/v1/cubes/B/memories",
                                R"({"session_id":"bs","messages":[{"role":"user","content":"B's secret plan"}]})"),
                         201);
    const std::string turn = added["turn_ids"][0];
    const std::string note = ok_json(b.post("/v1/cubes/B/memories", R"({"content":"B's private note"})"), 201)["id"];
    const HttpReply export_before = b.get("/v1/cubes/B/export");
    ASSERT_EQ(export_before.status, 200);
    const json counts_before = cube_counts(b, "B");
    const json note_before = ok_json(b.get("/v1/cubes/B/memories/" + note), 200);

    const std::vector<std::tuple<std::string, std::string, std::string>> routes = {
        {"POST", "/v1/cubes", R"({"id":"B"})"},
        {"GET", "/v1/cubes/B", ""},
        {"POST", "/v1/cubes/B/memories", R"({"messages":[{"role":"user","content":"injected"}]})"},
        {"POST", "/v1/cubes/B/memories", R"({"content":"injected note"})"},
        {"GET", "/v1/cubes/B/memories", ""},
        {"GET", "/v1/cubes/B/memories/" + note, ""},
        {"PATCH", "/v1/cubes/B/memories/" + note, R"({"content":"hacked"})"},
        {"GET", "/v1/cubes/B/memories/" + note + "/history", ""},
        {"GET", "/v1/cubes/B/memories/" + note + "/links", ""},
        {"GET", "/v1/cubes/B/sessions", ""},
        {"GET", "/v1/cubes/B/sessions/bs", ""},
        {"GET", "/v1/cubes/B/turns", ""},
        {"GET", "/v1/cubes/B/turns/" + turn, ""},
        {"POST", "/v1/cubes/B/search", R"({"query":"secret plan"})"},
        {"GET", "/v1/cubes/B/export", ""},
        {"POST", "/v1/cubes/B/import", export_before.body},
        {"DELETE", "/v1/cubes/B/memories/" + note, ""},
        {"DELETE", "/v1/cubes/B/turns/" + turn, ""},
        {"DELETE", "/v1/cubes/B/sessions/bs", ""},
        {"DELETE", "/v1/cubes/B", ""},
    };
    for (const auto& [method, path, body] : routes) {
        SCOPED_TRACE(method + " " + path);
        HttpReply r = a.send(method, path, body);
        expect_error(r, 403, "permission_denied");
        EXPECT_EQ(r.body.find("secret"), std::string::npos);
    }
    json listed = ok_json(a.get("/v1/cubes"), 200)["cubes"];
    ASSERT_EQ(listed.size(), 1u);
    EXPECT_EQ(listed[0]["id"], "A");

    EXPECT_EQ(cube_counts(b, "B"), counts_before);
    EXPECT_EQ(ok_json(b.get("/v1/cubes/B/memories/" + note), 200), note_before);
    EXPECT_EQ(ok_json(b.get("/v1/cubes/B/turns/" + turn), 200)["content"], "B's secret plan");
    EXPECT_EQ(ok_json(b.get("/v1/cubes/B/memories/" + note + "/history"), 200)["versions"].size(), 1u);
    EXPECT_TRUE(contains(search_ids(b, "B", "secret plan", "turn", "lexical"), turn));
    EXPECT_EQ(ok_json(b.get("/v1/cubes"), 200)["cubes"].size(), 1u);
}

TEST_F(ServeIntegrationTest, RefusesNonLoopbackWithoutKeys) {
    TempDir dir("kasten-it-loopback");
    CommandResult r =
        run_kasten({"serve", "--host", "0.0.0.0", "--port", "0", "--data-dir", dir.path(), "--embedder", "hashing"});
    EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
    EXPECT_NE(r.err.find("no API keys configured"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("refusing to listen on '0.0.0.0'"), std::string::npos) << r.err;
}

TEST_F(ServeIntegrationTest, AcknowledgedTurnsSurviveKill9) {
    TempDir dir("kasten-it-crash");
    auto server = KastenServer::start(dir.path());
    ASSERT_TRUE(server);
    const int port = server->port();

    struct Ack {
        int request;
        std::vector<std::string> turn_ids;
    };
    std::mutex mu;
    std::vector<Ack> acked;
    std::atomic<int> attempts{0};
    std::atomic<int> unexpected{0};
    std::thread writer([&] {
        TestClient c(port);
        for (int i = 0;; ++i) {
            json body = {
                {"session_id", "s" + std::to_string(i)},
                {"messages",
                 {{{"role", "user"}, {"content", "crash probe marker" + std::to_string(i) + "x first"}},
                  {{"role", "assistant"}, {"content", "crash probe marker" + std::to_string(i) + "x second"}}}}};
            attempts.fetch_add(1);
            HttpReply r = c.post("/v1/cubes/crash/memories", body.dump());
            if (r.status == 0) return;  // the server is gone
            if (r.status != 201) {
                unexpected.fetch_add(1);
                return;
            }
            std::lock_guard<std::mutex> lock(mu);
            acked.push_back({i, r.json()["turn_ids"].get<std::vector<std::string>>()});
        }
    });
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (std::chrono::steady_clock::now() < deadline) {
        {
            std::lock_guard<std::mutex> lock(mu);
            if (acked.size() >= 40) break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    server->kill_hard();
    writer.join();
    ASSERT_EQ(unexpected.load(), 0);
    const int n_acked = static_cast<int>(acked.size());
    ASSERT_GE(n_acked, 40);
    // Every attempt but the last was acknowledged; the last one was in flight when the server died.
    ASSERT_EQ(attempts.load(), n_acked + 1);

    server = KastenServer::start(dir.path());
    ASSERT_TRUE(server);
    TestClient c(server->port());
    json counts = cube_counts(c, "crash");
    const int turns = counts["turns"];
    const int sessions = counts["sessions"];
    // The in-flight request is all there or not there at all.
    EXPECT_TRUE(turns == 2 * n_acked || turns == 2 * n_acked + 2) << turns << " turns, " << n_acked << " acked";
    EXPECT_EQ(sessions * 2, turns);
    json listed = ok_json(c.get("/v1/cubes/crash/turns?limit=1000"), 200)["turns"];
    EXPECT_EQ(static_cast<int>(listed.size()), turns);
    EXPECT_EQ(static_cast<int>(ok_json(c.get("/v1/cubes/crash/sessions?limit=1000"), 200)["sessions"].size()),
              sessions);

    for (const Ack& ack : acked) {
        SCOPED_TRACE("request " + std::to_string(ack.request));
        ASSERT_EQ(ack.turn_ids.size(), 2u);
        const std::string marker = "marker" + std::to_string(ack.request) + "x";
        EXPECT_EQ(ok_json(c.get("/v1/cubes/crash/turns/" + ack.turn_ids[0]), 200)["content"],
                  "crash probe " + marker + " first");
        EXPECT_EQ(ok_json(c.get("/v1/cubes/crash/turns/" + ack.turn_ids[1]), 200)["content"],
                  "crash probe " + marker + " second");
        auto lexical = search_ids(c, "crash", marker, "turn", "lexical", 5);
        EXPECT_TRUE(contains(lexical, ack.turn_ids[0]) && contains(lexical, ack.turn_ids[1]));
        EXPECT_TRUE(contains(search_ids(c, "crash", marker + " first", "turn", "hybrid", 10), ack.turn_ids[0]));
    }
    const Ack& last = acked.back();
    const std::string last_marker = "marker" + std::to_string(last.request) + "x";
    EXPECT_TRUE(contains(search_ids(c, "crash", "crash probe " + last_marker + " first", "turn", "vector", 200),
                         last.turn_ids[0]));
    EXPECT_TRUE(
        contains(search_ids(c, "crash", last_marker, "session", "lexical", 5), "s" + std::to_string(last.request)));

    EXPECT_EQ(server->stop(), 0) << server->log();
    CommandResult check = run_kasten({"reindex", "--check-only", "--data-dir", dir.path(), "--embedder", "hashing"});
    EXPECT_EQ(check.exit_code, 0) << check.out << check.err;
}

TEST_F(ServeIntegrationTest, BadInputIsRejectedAndStoresNothing) {
    TempDir dir("kasten-it-badinput");
    auto server = KastenServer::start(dir.path());
    ASSERT_TRUE(server);
    TestClient c(server->port());
    ok_json(c.post("/v1/cubes/bad/memories", R"({"session_id":"s0","messages":[{"role":"user","content":"hello"}]})"),
            201);
    const json before = cube_counts(c, "bad");

    struct Case {
        std::string method, path, body;
        int status;
        std::string type;
    };
    const std::string mem = "/v1/cubes/bad/memories";
    const std::string search = "/v1/cubes/bad/search";
    const std::vector<Case> cases = {
        {"POST", mem, "{\"messages\": [", 400, "invalid_argument"},
        {"POST", mem, "not json at all", 400, "invalid_argument"},
        {"POST", mem, "[]", 400, "invalid_argument"},
        {"POST", mem, "", 400, "invalid_argument"},
        {"POST", mem, R"({"messages":{"role":"user"}})", 400, "invalid_argument"},
        {"POST", mem, R"({"messages":[{"role":"user","content":42}]})", 400, "invalid_argument"},
        {"POST", mem, R"({"messages":[{"role":"user","content":"x","time":12}]})", 400, "invalid_argument"},
        {"POST", mem, R"({"messages":[{"role":"user","content":"x","time":"not a time"}]})", 400, "invalid_argument"},
        {"POST", mem, R"({"messages":[{"role":"user"}]})", 400, "invalid_argument"},
        {"POST", mem, R"({"messages":[{"content":"x"}]})", 400, "invalid_argument"},
        {"POST", mem, R"({"messages":[{"role":"user","content":"x"}],"priority":1})", 400, "invalid_argument"},
        {"POST", mem, R"({"messages":[{"role":"user","content":"x"}],"content":"y"})", 400, "invalid_argument"},
        {"POST", mem, R"({"content":"x","importance":"high"})", 400, "invalid_argument"},
        {"POST", mem, R"({"content":"x","colour":"red"})", 400, "invalid_argument"},
        {"POST", mem, "{\"messages\":[{\"role\":\"user\",\"content\":\"bad \xc3\x28 utf8\"}]}", 400,
         "invalid_argument"},
        {"POST", mem, "{\"content\":\"\xff\xfe\xfd\"}", 400, "invalid_argument"},
        {"POST", mem, R"({"messages":[{"role":"user","content":"x"}],"session_id":"a b"})", 400, "invalid_argument"},
        {"POST", search, R"({"query":")" + std::string(100 * 1024, 'q') + R"("})", 400, "invalid_argument"},
        {"POST", search, R"({"query":"x","top_k":0})", 400, "invalid_argument"},
        {"POST", search, R"({"query":"x","top_k":100000})", 400, "invalid_argument"},
        {"POST", search, R"({"query":"x","top_k":"3"})", 400, "invalid_argument"},
        {"POST", search, R"({"query":"x","granularity":"word"})", 400, "invalid_argument"},
        {"POST", search, R"({"query":"x","filters":{"mood":"happy"}})", 400, "invalid_argument"},
        {"POST", search, R"({"top_k":3})", 400, "invalid_argument"},
        {"PATCH", mem + "/n_missing", R"({"colour":"red"})", 400, "invalid_argument"},
        {"PATCH", mem + "/n_missing", R"({"content":"x"})", 404, "not_found"},
        {"GET", "/v1/cubes/bad/turns?limit=0", "", 400, "invalid_argument"},
        {"GET", "/v1/cubes/bad/turns?limit=abc", "", 400, "invalid_argument"},
        {"GET", "/v1/cubes/bad/turns?offset=-1", "", 400, "invalid_argument"},
        {"GET", "/v1/cubes/bad/turns?color=red", "", 400, "invalid_argument"},
        {"POST", "/v1/cubes", R"({"id":"has space"})", 400, "invalid_argument"},
        {"POST", "/v1/cubes/bad2/import", "{\"type\":\"bogus\"}\n", 400, "invalid_argument"},
        {"GET", "/v1/nothing/here", "", 404, "not_found"},
        {"DELETE", "/v1/cubes/bad/search", "", 405, "not_supported"},
        {"PUT", "/v1/cubes/bad", "{}", 405, "not_supported"},
    };
    for (const Case& k : cases) {
        SCOPED_TRACE(k.method + " " + k.path + " " + k.body.substr(0, 80));
        expect_error(c.send(k.method, k.path, k.body), k.status, k.type);
    }

    // 50 MB is refused without being buffered, and the server carries on.
    const std::string huge(50u << 20, 'a');
    HttpReply too_big = TestClient(server->port()).post(mem, huge);
    expect_error(too_big, 413, "resource_exhausted");
    EXPECT_EQ(ok_json(c.get("/healthz"), 200)["status"], "ok");
    EXPECT_EQ(cube_counts(c, "bad"), before);
    EXPECT_TRUE(ok_json(c.get(mem), 200)["memories"].empty());
    expect_error(c.get("/v1/cubes/bad2"), 404, "not_found");

    // Quotes and SQL are ordinary text: stored verbatim in every string field.
    const std::string nasty = "Robert'); DROP TABLE turns;-- \"quoted\" \\ %_ ' OR '1'='1";
    json cube = ok_json(c.post("/v1/cubes", json({{"id", "q"}, {"name", nasty}}).dump()), 201);
    EXPECT_EQ(cube["name"], nasty);
    json added = ok_json(
        c.post("/v1/cubes/q/memories", json({{"messages", {{{"role", "user"}, {"content", nasty}}}}}).dump()), 201);
    EXPECT_EQ(ok_json(c.get("/v1/cubes/q/turns/" + added["turn_ids"][0].get<std::string>()), 200)["content"], nasty);
    json note = ok_json(
        c.post("/v1/cubes/q/memories",
               json({{"content", nasty}, {"kind", nasty}, {"context", nasty}, {"keywords", {nasty}}, {"tags", {nasty}}})
                   .dump()),
        201);
    json stored = ok_json(c.get("/v1/cubes/q/memories/" + note["id"].get<std::string>()), 200);
    for (const char* field : {"content", "kind", "context"}) EXPECT_EQ(stored[field], nasty) << field;
    EXPECT_EQ(stored["keywords"][0], nasty);
    EXPECT_EQ(stored["tags"][0], nasty);
    json patched = ok_json(
        c.patch("/v1/cubes/q/memories/" + note["id"].get<std::string>(), json({{"context", nasty + " again"}}).dump()),
        200);
    EXPECT_EQ(patched["context"], nasty + " again");
    for (const auto& r : kRetrievers) {
        EXPECT_FALSE(search_ids(c, "q", nasty, "turn", r).empty()) << r;
    }
    EXPECT_EQ(ok_json(c.get("/healthz"), 200)["status"], "ok");
}

// Polls GET /v1/jobs/{id} until the job is done or failed (at most 20 s); returns the last job JSON.
json wait_for_job(TestClient& c, const std::string& job_id) {
    json job;
    for (int i = 0; i < 400; ++i) {
        job = ok_json(c.get("/v1/jobs/" + job_id), 200);
        if (job["state"] == "done" || job["state"] == "failed") return job;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ADD_FAILURE() << "job " << job_id << " still " << job.dump();
    return job;
}

TEST_F(ServeIntegrationTest, NotesAreBuiltInTheBackgroundAndUpdatesCloseOlderNotes) {
    TempDir dir("kasten-it-notes");
    auto server = KastenServer::start(dir.path());
    ASSERT_TRUE(server);
    TestClient c(server->port());
    EXPECT_EQ(ok_json(c.get("/healthz"), 200)["notes"], "heuristic-v1 (links: heuristic-v1)");
    EXPECT_NE(server->log().find("notes: heuristic-v1"), std::string::npos) << server->log();

    auto add = [&](const std::string& session, const std::string& text, const std::string& time) {
        json body = {{"session_id", session}, {"messages", {{{"role", "user"}, {"content", text}, {"time", time}}}}};
        json added = ok_json(c.post("/v1/cubes/alice/memories", body.dump()), 201);
        EXPECT_TRUE(added["job_id"].is_string()) << added.dump();
        return added["job_id"].is_string() ? added["job_id"].get<std::string>() : std::string();
    };
    json first = wait_for_job(c, add("s1", "I live in Boston", "2023-01-10T12:00:00Z"));
    EXPECT_EQ(first["state"], "done") << first.dump();
    EXPECT_EQ(first["result"]["notes"], 1) << first.dump();
    json second = wait_for_job(c, add("s2", "I moved to Denver", "2023-03-01T12:00:00Z"));
    EXPECT_EQ(second["state"], "done") << second.dump();
    EXPECT_EQ(second["result"]["superseded"], 1) << second.dump();

    json jobs = ok_json(c.get("/v1/cubes/alice/jobs"), 200)["jobs"];
    ASSERT_EQ(jobs.size(), 2u);
    EXPECT_EQ(jobs[0]["id"], second["id"]);

    json superseded = ok_json(c.get("/v1/cubes/alice/memories?status=superseded"), 200)["memories"];
    ASSERT_EQ(superseded.size(), 1u) << superseded.dump();
    EXPECT_EQ(superseded[0]["content"], "I live in Boston");
    json active = ok_json(c.get("/v1/cubes/alice/memories?status=active"), 200)["memories"];
    ASSERT_EQ(active.size(), 1u) << active.dump();
    EXPECT_EQ(active[0]["content"], "I moved to Denver");
    EXPECT_EQ(superseded[0]["superseded_by"], active[0]["id"]);

    json then = ok_json(c.post("/v1/cubes/alice/search", R"({"query":"where does the user live","granularity":"note",
                                                              "as_of":"2023-02-01"})"),
                        200)["hits"];
    ASSERT_FALSE(then.empty());
    EXPECT_EQ(then[0]["id"], superseded[0]["id"]) << then.dump();

    // Restart: the notes and jobs are in the store.
    ASSERT_EQ(server->stop(), 0);
    server = KastenServer::start(dir.path());
    ASSERT_TRUE(server);
    TestClient again(server->port());
    EXPECT_EQ(ok_json(again.get("/v1/jobs/" + second["id"].get<std::string>()), 200)["state"], "done");
}

TEST_F(ServeIntegrationTest, LlmNotesNeedAModel) {
    TempDir dir("kasten-it-notes-llm");
    CommandResult r =
        run_kasten({"serve", "--data-dir", dir.path(), "--embedder", "hashing", "--port", "0", "--notes", "llm"});
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_NE(r.err.find("--notes llm needs --model"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace kasten::api::testing
