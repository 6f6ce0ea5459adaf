// Regression tests over real HTTP for hostile input: import nesting, tenant edges (imports that reach into another
// cube, id collisions, actor names), and strict parsing (repeated keys, byte order marks, ids, no-op patches).
#include <signal.h>

#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/api/integration/http_client.h"
#include "tests/api/integration/kasten_process.h"

namespace kasten::api::testing {
namespace {

using nlohmann::json;

class InputEdgesTest : public ::testing::Test {
  protected:
    static void SetUpTestSuite() { signal(SIGPIPE, SIG_IGN); }
};

json ok_json(const HttpReply& r, int want) {
    EXPECT_EQ(r.status, want) << r.body;
    return r.json();
}

// Asserts an error reply of `status`/`type` whose message contains `part`.
void expect_error(const HttpReply& r, int status, const std::string& type, const std::string& part = "") {
    EXPECT_EQ(r.status, status) << r.body;
    json j = r.json();
    ASSERT_TRUE(j.is_object()) << r.body.substr(0, 200);
    EXPECT_EQ(j["error"]["type"], type) << r.body;
    if (!part.empty()) {
        EXPECT_NE(j["error"]["message"].get<std::string>().find(part), std::string::npos) << r.body;
    }
}

// The peak resident set of a process, in kB (VmHWM).
long peak_rss_kb(pid_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind("VmHWM:", 0) == 0) return std::stol(line.substr(6));
    }
    return -1;
}

// The archive lines of an export, parsed.
std::vector<json> lines_of(const std::string& ndjson) {
    std::vector<json> out;
    std::istringstream in(ndjson);
    std::string line;
    while (std::getline(in, line)) {
        if (!line.empty()) out.push_back(json::parse(line));
    }
    return out;
}

std::string ndjson_of(const std::vector<json>& lines) {
    std::string out;
    for (const auto& l : lines) out += l.dump() + "\n";
    return out;
}

TEST_F(InputEdgesTest, ImportRefusesDeepNestingBeforeParsingIt) {
    TempDir dir("kasten-it-import-nesting");
    auto server = KastenServer::start(dir.path(), {"--notes", "off"});
    ASSERT_TRUE(server);
    TestClient c(server->port());
    const long before = peak_rss_kb(server->pid());
    ASSERT_GT(before, 0);
    const std::string header = R"({"type":"header","format":"kasten-cube","version":1})";
    // 8 MB of '[' on the second line: refused by its depth, never handed to a parser (which held ~650 MB for it).
    const std::string body = header + "\n" + std::string(8'000'000, '[') + "\n";
    expect_error(c.post("/v1/cubes/deep/import", body), 400, "invalid_argument", "line 2 nests deeper than 32");
    // A deep line inside an otherwise valid archive, and a repeated key, are refused alike.
    expect_error(c.post("/v1/cubes/deep/import", header + "\n" + std::string(40, '[') + std::string(40, ']') + "\n"),
                 400, "invalid_argument", "nests deeper than 32");
    expect_error(c.post("/v1/cubes/deep/import", R"({"type":"header","type":"header"})"
                                                 "\n"),
                 400, "invalid_argument", "'type' twice");
    const long after = peak_rss_kb(server->pid());
    EXPECT_LT(after - before, 200 * 1024) << "peak RSS grew from " << before << " kB to " << after << " kB";
    expect_error(c.get("/v1/cubes/deep"), 404, "not_found");
}

TEST_F(InputEdgesTest, AnImportCannotReachIntoAnotherCubeNorLearnItsIds) {
    TempDir dir("kasten-it-import-tenants");
    const std::string key_alice = "key-alice-0001", key_bob = "key-bob-00001", key_admin = "key-admin-0001";
    auto server = KastenServer::start(
        dir.path(), {"--notes", "off", "--api-keys",
                     "alice-app@" + key_alice + "=alice;bob-app@" + key_bob + "=bob,bobsrc;admin@" + key_admin + "=*"});
    ASSERT_TRUE(server);
    TestClient alice(server->port(), key_alice), bob(server->port(), key_bob), admin(server->port(), key_admin);

    json a = ok_json(alice.post("/v1/cubes/alice/memories",
                                R"({"session_id":"a1","messages":[{"role":"user","content":"alice secret one"},
                                    {"role":"user","content":"alice secret two"}]})"),
                     201);
    const std::string alice_turn = a["turn_ids"][0], alice_other_turn = a["turn_ids"][1];

    // Bob exports a cube of his own and rewrites it: his turn takes alice's turn id, and his note cites that turn
    // and another of alice's turns.
    json b = ok_json(
        bob.post("/v1/cubes/bobsrc/memories", R"({"session_id":"b1","messages":[{"role":"user","content":"bob"}]})"),
        201);
    const std::string bob_turn = b["turn_ids"][0];
    ok_json(
        bob.post("/v1/cubes/bobsrc/memories", R"({"content":"bob's note","source_turn_ids":[")" + bob_turn + R"("]})"),
        201);
    HttpReply exported = bob.get("/v1/cubes/bobsrc/export");
    ASSERT_EQ(exported.status, 200);
    std::vector<json> lines = lines_of(exported.body);
    for (auto& l : lines) {
        if (l["type"] == "turn") l["id"] = alice_turn;
        if (l["type"] == "note") l["source_turn_ids"] = json::array({alice_turn, alice_other_turn});
    }
    const std::string forged = ndjson_of(lines);

    HttpReply imported = bob.post("/v1/cubes/bob/import", forged, "application/x-ndjson");
    json summary = ok_json(imported, 201);
    EXPECT_EQ(imported.body.find("exist"), std::string::npos) << imported.body;
    const std::string new_turn = summary["id_map"][alice_turn];
    EXPECT_NE(new_turn, alice_turn);
    EXPECT_EQ(summary["dropped_references"], 1);  // alice's other turn is not in the archive
    json notes = ok_json(bob.get("/v1/cubes/bob/memories"), 200)["memories"];
    ASSERT_EQ(notes.size(), 1u);
    EXPECT_EQ(notes[0]["source_turn_ids"], json::array({new_turn}));
    expect_error(bob.get("/v1/cubes/bob/turns/" + alice_turn), 404, "not_found");
    EXPECT_EQ(ok_json(alice.get("/v1/cubes/alice/turns/" + alice_turn), 200)["content"], "alice secret one");

    // Keeping the archive's ids is for keys that see every cube; for them a clash may be named.
    expect_error(bob.post("/v1/cubes/bob2/import?ids=keep", forged, "application/x-ndjson"), 403, "permission_denied");
    expect_error(admin.post("/v1/cubes/bob2/import?ids=keep", forged, "application/x-ndjson"), 409, "already_exists");
    expect_error(admin.get("/v1/cubes/bob2"), 404, "not_found");
}

TEST_F(InputEdgesTest, ActorsAreKeyNamesAndKeysMayBeGivenHashed) {
    TempDir dir("kasten-it-actors");
    // sha256("key-hashed-0001"), computed with sha256sum.
    const std::string hashed = "bb766279d9665501c0663bed1a3f28e2c59ba784c4b0da35c4c51508d059332d";
    const std::string key_admin = "key-admin-secret-1";
    auto server = KastenServer::start(
        dir.path(), {"--notes", "off", "--api-keys", "owner@sha256:" + hashed + "=alice;admin@" + key_admin + "=*"});
    ASSERT_TRUE(server);
    TestClient owner(server->port(), "key-hashed-0001"), admin(server->port(), key_admin);
    expect_error(TestClient(server->port(), hashed).get("/v1/cubes/alice"), 401, "unauthenticated");

    ok_json(owner.post("/v1/cubes", R"({"id":"alice"})"), 201);
    json note = ok_json(owner.post("/v1/cubes/alice/memories", R"({"content":"Alice likes tea"})"), 201);
    const std::string id = note["id"];
    ok_json(admin.patch("/v1/cubes/alice/memories/" + id, R"({"content":"Alice likes green tea"})"), 200);
    HttpReply history = owner.get("/v1/cubes/alice/memories/" + id + "/history");
    json versions = ok_json(history, 200)["versions"];
    ASSERT_EQ(versions.size(), 2u);
    EXPECT_EQ(versions[0]["actor"], "key:owner");
    EXPECT_EQ(versions[1]["actor"], "key:admin");
    for (size_t n = 4; n <= key_admin.size(); ++n) {
        EXPECT_EQ(history.body.find(key_admin.substr(0, n)), std::string::npos) << n;
    }
    EXPECT_EQ(history.body.find("key-hash"), std::string::npos);
}

TEST_F(InputEdgesTest, BodiesAreParsedAsDocumented) {
    TempDir dir("kasten-it-strict");
    auto server = KastenServer::start(dir.path(), {"--notes", "off"});
    ASSERT_TRUE(server);
    TestClient c(server->port());
    ok_json(c.post("/v1/cubes/c/memories",
                   R"({"session_id":"s1","messages":[{"role":"user","content":"hello there my friend"}]})"),
            201);

    // A key twice in one object, at any depth.
    expect_error(c.post("/v1/cubes/c/memories", R"({"content":"a","content":"b"})"), 400, "invalid_argument",
                 "'content' twice");
    expect_error(c.post("/v1/cubes/c/memories", R"({"messages":[{"role":"user","role":"tool","content":"x"}]})"), 400,
                 "invalid_argument", "'role' twice");
    expect_error(c.post("/v1/cubes/c/search", R"({"query":"hi","top_k":1,"top_k":2})"), 400, "invalid_argument",
                 "'top_k' twice");
    // A byte order mark.
    expect_error(c.post("/v1/cubes/c/search", "\xEF\xBB\xBF{\"query\":\"hi\"}"), 400, "invalid_argument",
                 "byte order mark");
    // Ids in filters are ids.
    expect_error(c.post("/v1/cubes/c/search", R"({"query":"hi","filters":{"session_id":"../../etc"}})"), 400,
                 "invalid_argument", "filters.session_id");
    expect_error(
        c.post("/v1/cubes/c/search", R"({"query":"hi","filters":{"session_id":")" + std::string(200, 's') + R"("}})"),
        400, "invalid_argument", "filters.session_id");
    expect_error(c.post("/v1/cubes/c/memories", R"({"session_id":"a/b","messages":[{"role":"user","content":"x"}]})"),
                 400, "invalid_argument", "session_id");
    expect_error(c.post("/v1/cubes/c/context", R"({"query":"hi","exclude_session_id":"../x"})"), 400,
                 "invalid_argument", "exclude_session_id");
    EXPECT_EQ(
        ok_json(c.post("/v1/cubes/c/search", R"({"query":"hello friend","filters":{"session_id":"s1"}})"), 200)["hits"]
            .size(),
        1u);

    // A patch that changes nothing adds no version.
    json note = ok_json(c.post("/v1/cubes/c/memories", R"({"content":"Bob plays chess","tags":["games"]})"), 201);
    const std::string path = "/v1/cubes/c/memories/" + note["id"].get<std::string>();
    json same = ok_json(c.patch(path, R"({"content":"Bob plays chess","tags":["games"]})"), 200);
    EXPECT_EQ(same["version"], 1);
    EXPECT_EQ(ok_json(c.get(path + "/history"), 200)["versions"].size(), 1u);
    EXPECT_EQ(ok_json(c.patch(path, R"({"content":"Bob plays go"})"), 200)["version"], 2);
}

}  // namespace
}  // namespace kasten::api::testing
