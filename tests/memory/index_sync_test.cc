#include "memory/index_sync.h"

#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include <gtest/gtest.h>

#include "llm/hashing_embedder.h"
#include "memory/memory_manager.h"
#include "store/database.h"
#include "store/event_log.h"

namespace kasten::memory {
namespace {

namespace fs = std::filesystem;

std::unique_ptr<MemoryManager> open_dir(const std::string& dir, const Clock* clock) {
    MemoryOptions o;
    o.embedder = std::make_shared<llm::HashingEmbedder>(64);
    o.clock = clock;
    o.data_dir = dir;
    o.lexical_commit_every = 1000000;  // nothing is committed but by flush()
    auto r = MemoryManager::open(o);
    EXPECT_TRUE(r.is_ok()) << r.status().to_string();
    return r.is_ok() ? std::move(r).value() : nullptr;
}

AddMessagesRequest add(const std::string& session, std::vector<std::string> texts) {
    AddMessagesRequest req;
    req.cube_id = "u";
    req.session_id = session;
    req.time = 1700000000000;
    for (auto& t : texts) req.messages.push_back({"user", std::move(t), std::nullopt});
    return req;
}

std::vector<SearchHit> lexical(MemoryManager& mm, const std::string& q, Granularity g) {
    SearchRequest s;
    s.cube_id = "u";
    s.query = q;
    s.granularity = g;
    s.retriever = Retriever::kLexical;
    s.lend_context = false;  // the units that match, not their neighbours
    return mm.search(s).value();
}

// After kill -9, the next open re-indexes exactly the units of the events after the committed watermark.
TEST(IndexSyncRecoveryTest, ACrashCostsTheTailNotTheStore) {
    const fs::path dir = fs::temp_directory_path() / ("kasten-recover-" + std::to_string(::getpid()));
    fs::remove_all(dir);
    FakeClock clock(1700000000000);
    {
        auto mm = open_dir(dir.string(), &clock);
        ASSERT_NE(mm, nullptr);
        for (int s = 0; s < 20; ++s) {
            ASSERT_TRUE(
                mm->add_messages(add("old" + std::to_string(s), {"I like apples", "and pears", "a lot"})).is_ok());
        }
    }  // closed cleanly: everything committed
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        auto mm = open_dir(dir.string(), &clock);
        if (!mm) ::_exit(2);
        bool ok = mm->add_messages(add("old0", {"my zebra is called Stripes"})).is_ok();
        ok = ok && mm->add_messages(add("new", {"the walrus sings", "the narwhal dances"})).is_ok();
        ok = ok && mm->check_consistency().is_ok();  // waits until the worker applied (not committed) them
        ::kill(::getpid(), SIGKILL);                 // no destructor, no commit
        ::_exit(ok ? 0 : 3);
    }
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    ASSERT_TRUE(WIFSIGNALED(status)) << "child exit " << WEXITSTATUS(status);

    auto mm = open_dir(dir.string(), &clock);
    ASSERT_NE(mm, nullptr);
    // 3 turns and 2 sessions (old0 rebuilt, new) — not the 80 units stored before.
    EXPECT_EQ(mm->stats().recovered_units, 5);
    EXPECT_EQ(lexical(*mm, "zebra", Granularity::kTurn).size(), 1u);
    EXPECT_EQ(lexical(*mm, "walrus", Granularity::kTurn).size(), 1u);
    auto sessions = lexical(*mm, "zebra apples", Granularity::kSession);
    ASSERT_FALSE(sessions.empty());
    EXPECT_EQ(sessions[0].id, "old0");
    EXPECT_TRUE(mm->check_consistency()->consistent());
    mm.reset();
    // A clean close commits: the next open re-indexes nothing.
    mm = open_dir(dir.string(), &clock);
    EXPECT_EQ(mm->stats().recovered_units, 0);
    mm.reset();
    fs::remove_all(dir);
}

// An event that does not name its units (written by an older build, or with a detail that does not parse) makes
// recovery rebuild that event's cube whole instead of guessing.
TEST(IndexSyncRecoveryTest, AnEventWithoutUnitIdsRebuildsItsCube) {
    const fs::path dir = fs::temp_directory_path() / ("kasten-recover-legacy-" + std::to_string(::getpid()));
    fs::remove_all(dir);
    FakeClock clock(1700000000000);
    {
        auto mm = open_dir(dir.string(), &clock);
        ASSERT_NE(mm, nullptr);
        for (int s = 0; s < 3; ++s) {
            ASSERT_TRUE(mm->add_messages(add("s" + std::to_string(s), {"one turn", "two turns", "three"})).is_ok());
        }
    }
    for (const char* detail : {R"({"turns":1})", "not json"}) {
        {
            auto db = store::Database::open((dir / "kasten.db").string()).value();
            store::EventRecord e;
            e.cube_id = "u";
            e.actor = "older-build";
            e.action = "turns.add";
            e.target_type = "session";
            e.target_id = "s0";
            e.detail_json = detail;
            e.at = 1;
            ASSERT_TRUE(store::EventLog(*db).append(e).is_ok());
        }
        auto mm = open_dir(dir.string(), &clock);
        ASSERT_NE(mm, nullptr);
        EXPECT_EQ(mm->stats().recovered_units, 12) << detail << ": 9 turns and 3 sessions, the whole cube";
        EXPECT_TRUE(mm->check_consistency()->consistent());
    }
    fs::remove_all(dir);
}

// Readers keep going while one writer appends as fast as it can; no read waits longer than a generous bound.
TEST(IndexSyncConcurrencyTest, SearchesDuringALongIngestAreNotStalled) {
    const fs::path dir = fs::temp_directory_path() / ("kasten-ingest-read-" + std::to_string(::getpid()));
    fs::remove_all(dir);
    FakeClock clock(1700000000000);
    MemoryOptions o;
    o.embedder = std::make_shared<llm::HashingEmbedder>(64);
    o.clock = &clock;
    o.data_dir = dir.string();
    o.lexical_commit_every = 500;  // many index commits during the run
    auto mm = MemoryManager::open(o).value();
    ASSERT_TRUE(mm->add_messages(add("s", {"warm up turn about otters"})).is_ok());
    std::atomic<bool> done{false};
    std::thread writer([&] {
        for (int i = 0; i < 3000; ++i) {
            auto r = mm->add_messages(
                add("s" + std::to_string(i % 10), {"turn number " + std::to_string(i) + " about otters and rivers"}));
            ASSERT_TRUE(r.is_ok()) << r.status().to_string();
        }
        done = true;
    });
    double worst_ms = 0;
    int reads = 0;
    while (!done.load()) {
        const auto t0 = std::chrono::steady_clock::now();
        SearchRequest s;
        s.cube_id = "u";
        s.query = "otters rivers";
        auto hits = mm->search(s);
        ASSERT_TRUE(hits.is_ok()) << hits.status().to_string();
        ASSERT_TRUE(mm->get_cube("u").is_ok());
        worst_ms = std::max(worst_ms,
                            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
        ++reads;
    }
    writer.join();
    EXPECT_GT(reads, 0);
    EXPECT_LT(worst_ms, 5000.0 * KASTEN_TEST_SLOWDOWN) << "a read was blocked behind the writer";
    // Every acknowledged add is searchable afterwards.
    SearchRequest last;
    last.cube_id = "u";
    last.query = "2999";
    last.retriever = Retriever::kLexical;
    EXPECT_FALSE(mm->search(last)->empty());
    mm.reset();
    fs::remove_all(dir);
}

}  // namespace
}  // namespace kasten::memory
