// `kasten serve` on a disk that fills up, over HTTP: a write the store cannot make answers 507 insufficient_storage
// (retryable), never 413; every add that was acknowledged stays findable by keyword search once there is room again,
// before and after a restart.
//
// The disk is filled by lowering the server's file size limit (RLIMIT_FSIZE, set on the running process with
// prlimit): writes past it fail with EFBIG exactly where a full disk fails with ENOSPC, for SQLite and Xapian alike,
// and no mount or privilege is needed.
#include <signal.h>
#include <sys/resource.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/api/integration/http_client.h"
#include "tests/api/integration/kasten_process.h"

namespace kasten::api::testing {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

// The largest file under `dir`.
std::uintmax_t largest_file(const std::string& dir) {
    std::uintmax_t largest = 0;
    for (const auto& e : fs::recursive_directory_iterator(dir)) {
        std::error_code ec;
        if (e.is_regular_file(ec)) largest = std::max(largest, e.file_size(ec));
    }
    return largest;
}

bool set_file_size_limit(pid_t pid, rlim_t bytes) {
    struct rlimit limit {};
    limit.rlim_cur = bytes;
    limit.rlim_max = RLIM_INFINITY;
    return ::prlimit(pid, RLIMIT_FSIZE, &limit, nullptr) == 0;
}

std::string word(int n) {
    return "quokka" + std::to_string(n);
}

json add_body(int n) {
    // Large turns fill the write-ahead log and the index quickly.
    return {{"session_id", "s" + std::to_string(n % 7)},
            {"messages", {{{"role", "user"}, {"content", "my " + word(n) + " " + std::string(6000, 'w')}}}}};
}

// Turn ids a keyword search for n's word finds.
std::vector<std::string> lexical_ids(TestClient& c, int n) {
    json body = {{"query", word(n)}, {"granularity", "turn"}, {"retriever", "lexical"}, {"top_k", 5}};
    HttpReply r = c.post("/v1/cubes/disk/search", body.dump());
    EXPECT_EQ(r.status, 200) << r.body;
    std::vector<std::string> ids;
    json j = r.json();
    if (j.is_object() && j["hits"].is_array()) {
        for (const auto& h : j["hits"]) ids.push_back(h["id"].get<std::string>());
    }
    return ids;
}

void expect_all_findable(TestClient& c, const std::map<int, std::string>& acknowledged, const char* when) {
    int missing = 0;
    for (const auto& [n, id] : acknowledged) {
        if (lexical_ids(c, n) != std::vector<std::string>{id}) ++missing;
    }
    EXPECT_EQ(missing, 0) << missing << " of " << acknowledged.size() << " acknowledged turns not found " << when;
}

TEST(DiskFullIntegrationTest, FullDiskAnswers507AndLosesNoAcknowledgedTurn) {
    // The server inherits an ignored SIGXFSZ, so a write past its limit fails with EFBIG instead of killing it.
    signal(SIGPIPE, SIG_IGN);
    signal(SIGXFSZ, SIG_IGN);
    TempDir dir("kasten-it-diskfull");
    auto server = KastenServer::start(dir.path());
    ASSERT_TRUE(server);
    std::map<int, std::string> acknowledged;
    int n = 0;
    {
        TestClient c(server->port());
        for (; n < 5; ++n) {
            HttpReply r = c.post("/v1/cubes/disk/memories", add_body(n).dump());
            ASSERT_EQ(r.status, 201) << r.body;
            acknowledged[n] = r.json()["turn_ids"][0].get<std::string>();
        }
        ASSERT_TRUE(set_file_size_limit(server->pid(), largest_file(dir.path()) + 512 * 1024));

        // Adds until the store is refused: each answer is 201 (acknowledged) or 507 (nothing stored, retry).
        HttpReply refused;
        for (; n < 400 && refused.status == 0; ++n) {
            HttpReply r = c.post("/v1/cubes/disk/memories", add_body(n).dump());
            if (r.status == 201) {
                acknowledged[n] = r.json()["turn_ids"][0].get<std::string>();
            } else {
                refused = r;
            }
        }
        ASSERT_EQ(refused.status, 507) << "after " << n << " adds: " << refused.body << "\n" << server->log();
        json error = refused.json();
        EXPECT_EQ(error["error"]["code"], 507);
        EXPECT_EQ(error["error"]["type"], "insufficient_storage") << refused.body;
        const int failed = n - 1;

        // Room again: the refused add succeeds when retried, and the index is repaired without a restart.
        ASSERT_TRUE(set_file_size_limit(server->pid(), RLIM_INFINITY));
        HttpReply retried = c.post("/v1/cubes/disk/memories", add_body(failed).dump());
        ASSERT_EQ(retried.status, 201) << retried.body;
        acknowledged[failed] = retried.json()["turn_ids"][0].get<std::string>();
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
        json health;
        while (std::chrono::steady_clock::now() < deadline) {
            health = c.get("/healthz").json();
            if (health["lexical_index"]["state"] == "ok") break;
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        ASSERT_EQ(health["lexical_index"]["state"], "ok") << health.dump() << "\n" << server->log();
        EXPECT_EQ(health["status"], "ok");
        expect_all_findable(c, acknowledged, "once the disk had room");
    }
    EXPECT_EQ(server->stop(), 0) << server->log();
    server = KastenServer::start(dir.path());
    ASSERT_TRUE(server);
    {
        TestClient c(server->port());
        expect_all_findable(c, acknowledged, "after a restart");
    }
    EXPECT_EQ(server->stop(), 0) << server->log();
    CommandResult check = run_kasten({"reindex", "--check-only", "--data-dir", dir.path(), "--embedder", "hashing"});
    EXPECT_EQ(check.exit_code, 0) << check.out << check.err;
}

// `kasten reindex --check-only` names the ids an index lacks (here: a lexical index lost whole, so the counts tell
// nothing useful about which), and `kasten reindex` restores them.
TEST(DiskFullIntegrationTest, ReindexNamesMissingIdsAndRestoresThem) {
    signal(SIGPIPE, SIG_IGN);
    TempDir dir("kasten-it-reindex-ids");
    auto server = KastenServer::start(dir.path());
    ASSERT_TRUE(server);
    std::vector<std::string> turn_ids;
    {
        TestClient c(server->port());
        for (int n = 0; n < 3; ++n) {
            HttpReply r = c.post("/v1/cubes/disk/memories", add_body(n).dump());
            ASSERT_EQ(r.status, 201) << r.body;
            turn_ids.push_back(r.json()["turn_ids"][0].get<std::string>());
        }
    }
    EXPECT_EQ(server->stop(), 0) << server->log();
    fs::remove_all(fs::path(dir.path()) / "lexical");

    CommandResult check = run_kasten({"reindex", "--check-only", "--data-dir", dir.path(), "--embedder", "hashing"});
    EXPECT_NE(check.exit_code, 0) << check.out << check.err;
    EXPECT_NE(check.out.find("3 missing from the lexical index"), std::string::npos) << check.out;
    for (const auto& id : turn_ids) EXPECT_NE(check.out.find(id), std::string::npos) << id << "\n" << check.out;

    CommandResult fix = run_kasten({"reindex", "--data-dir", dir.path(), "--embedder", "hashing"});
    EXPECT_EQ(fix.exit_code, 0) << fix.out << fix.err;
    EXPECT_NE(fix.out.find("consistency: OK"), std::string::npos) << fix.out;
    CommandResult json_check =
        run_kasten({"reindex", "--check-only", "--json", "--data-dir", dir.path(), "--embedder", "hashing"});
    EXPECT_EQ(json_check.exit_code, 0) << json_check.out << json_check.err;
    EXPECT_EQ(json::parse(json_check.out, nullptr, false)["consistency"]["consistent"], true) << json_check.out;
}

}  // namespace
}  // namespace kasten::api::testing
