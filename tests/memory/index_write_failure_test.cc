// A full disk under the lexical index: every acknowledged turn stays findable by keyword search once the disk has
// room again (repaired from the store at once, or at the next open at the latest), and check_consistency compares
// unit ids, not counts.
#include <signal.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

#include "llm/hashing_embedder.h"
#include "memory/index_write_faults.h"
#include "memory/memory_manager.h"
#include "retrieval/lexical_index.h"

namespace kasten::memory {
namespace {

namespace fs = std::filesystem;

class TempDir {
  public:
    explicit TempDir(const std::string& name)
        : path_(fs::temp_directory_path() / ("kasten-" + name + "-" + std::to_string(::getpid()))) {
        fs::remove_all(path_);
        fs::create_directories(path_);
    }
    ~TempDir() { fs::remove_all(path_); }
    const fs::path& path() const { return path_; }

  private:
    fs::path path_;
};

std::unique_ptr<MemoryManager> open_dir(const fs::path& dir, const Clock* clock,
                                        std::shared_ptr<IndexWriteFaults> faults = nullptr, bool verify = true) {
    MemoryOptions o;
    o.embedder = std::make_shared<llm::HashingEmbedder>(64);
    o.clock = clock;
    o.data_dir = dir.string();
    o.lexical_commit_every = 4;  // commits (and failed commits) all through the test
    o.index_write_faults = std::move(faults);
    o.verify_on_open = verify;
    o.background_jobs = false;
    o.index_repair_delay_ms = 50;
    o.index_repair_max_delay_ms = 500;
    auto r = MemoryManager::open(o);
    EXPECT_TRUE(r.is_ok()) << r.status().to_string();
    return r.is_ok() ? std::move(r).value() : nullptr;
}

// A word no other turn holds.
std::string word(int n) {
    return "zephyr" + std::to_string(n);
}

Result<AddMessagesResult> add_turn(MemoryManager& mm, int n, const std::string& padding = "") {
    AddMessagesRequest req;
    req.cube_id = "u";
    req.session_id = "s" + std::to_string(n % 5);
    req.time = 1700000000000 + n;
    req.messages.push_back({"user", "I keep a " + word(n) + " in the garden " + padding, std::nullopt});
    return mm.add_messages(req);
}

// Turn ids found by a keyword search for `n`'s word.
std::vector<std::string> find(MemoryManager& mm, int n) {
    SearchRequest s;
    s.cube_id = "u";
    s.query = word(n);
    s.granularity = Granularity::kTurn;
    s.retriever = Retriever::kLexical;
    s.lend_context = false;  // the turns that match, not their neighbours
    auto hits = mm.search(s);
    EXPECT_TRUE(hits.is_ok()) << hits.status().to_string();
    std::vector<std::string> ids;
    if (hits.is_ok()) {
        for (const auto& h : hits.value()) ids.push_back(h.id);
    }
    return ids;
}

// Waits (up to 60 s: a loaded machine) until the background repair has made the index clean.
bool wait_clean(MemoryManager& mm) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (std::chrono::steady_clock::now() < deadline) {
        if (!mm.index_health().dirty) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
}

// Every acknowledged turn (n -> its id) is found by its word, and only it.
void expect_all_findable(MemoryManager& mm, const std::map<int, std::string>& acknowledged, const char* when) {
    int missing = 0;
    for (const auto& [n, id] : acknowledged) {
        auto ids = find(mm, n);
        if (ids != std::vector<std::string>{id}) ++missing;
    }
    EXPECT_EQ(missing, 0) << missing << " of " << acknowledged.size() << " acknowledged turns not found " << when;
}

// How a test fills the disk under the lexical index and frees it again.
class DiskFault {
  public:
    virtual ~DiskFault() = default;
    virtual void fill() = 0;
    virtual void clear() = 0;
};

// Injected ENOSPC through the index writer's I/O hook: runs everywhere.
class InjectedFault final : public DiskFault {
  public:
    InjectedFault() : faults_(std::make_shared<IndexWriteFaults>()) {}
    void fill() override { faults_->set_failing(true); }
    void clear() override { faults_->clear(); }
    std::shared_ptr<IndexWriteFaults> faults() const { return faults_; }

  private:
    std::shared_ptr<IndexWriteFaults> faults_;
};

// A real filesystem: `dir` mounted as a tmpfs of `bytes`; fill() writes a ballast file that takes the room left,
// clear() deletes it. Null when this machine does not allow mounting.
class TmpfsFault final : public DiskFault {
  public:
    static std::unique_ptr<TmpfsFault> mount_at(const fs::path& dir, std::size_t bytes) {
        fs::create_directories(dir);
        const std::string options = "size=" + std::to_string(bytes);
        if (::mount("tmpfs", dir.c_str(), "tmpfs", 0, options.c_str()) != 0) return nullptr;
        return std::unique_ptr<TmpfsFault>(new TmpfsFault(dir));
    }
    ~TmpfsFault() override { ::umount2(dir_.c_str(), MNT_DETACH); }
    void fill() override {
        std::ofstream out(dir_ / "ballast", std::ios::binary);
        const std::string block(4096, 'x');
        for (int i = 0; i < 1 << 20 && out.write(block.data(), block.size()); ++i) {
        }
    }
    void clear() override { fs::remove(dir_ / "ballast"); }

  private:
    explicit TmpfsFault(fs::path dir) : dir_(std::move(dir)) {}
    fs::path dir_;
};

// The whole scenario of finding 3: turns acknowledged before, during and after a full disk under the lexical
// index are all found by keyword search once the disk has room — repaired in the background without a restart —
// and again after a reopen.
void run_full_disk_scenario(const fs::path& dir, DiskFault& disk, std::shared_ptr<IndexWriteFaults> faults,
                            const char* label) {
    SCOPED_TRACE(label);
    FakeClock clock(1700000000000);
    std::map<int, std::string> acknowledged;
    auto mm = open_dir(dir, &clock, faults);
    ASSERT_NE(mm, nullptr);
    int n = 0;
    for (; n < 20; ++n) {
        auto r = add_turn(*mm, n);
        ASSERT_TRUE(r.is_ok()) << r.status().to_string();
        acknowledged[n] = r.value().turn_ids.at(0);
    }
    ASSERT_TRUE(mm->flush().is_ok());
    expect_all_findable(*mm, acknowledged, "before the disk filled");

    disk.fill();
    // Adds go on (the store is not on the full disk): each is acknowledged, none may be lost.
    const std::string padding(2000, 'p');
    for (; n < 60; ++n) {
        auto r = add_turn(*mm, n, padding);
        ASSERT_TRUE(r.is_ok()) << r.status().to_string();
        acknowledged[n] = r.value().turn_ids.at(0);
    }
    const auto tried = mm->check_consistency();  // a read barrier: every change was tried
    ASSERT_TRUE(tried.is_ok()) << tried.status().to_string();
    EXPECT_TRUE(mm->index_health().dirty) << "the index writes failed but the index is not marked dirty";
    // Searches keep working on the index as it was last committed: what was found before is found still.
    EXPECT_EQ(find(*mm, 0), std::vector<std::string>{acknowledged[0]});
    Status st = mm->flush();
    EXPECT_EQ(st.code(), StatusCode::kInsufficientStorage) << st.to_string();
    EXPECT_TRUE(fs::exists(dir / "lexical.dirty"));

    disk.clear();
    ASSERT_TRUE(wait_clean(*mm)) << "not repaired within 60 s of the disk having room: " << mm->index_health().error;
    EXPECT_FALSE(fs::exists(dir / "lexical.dirty"));
    EXPECT_GE(mm->index_health().repairs, 1);
    for (; n < 70; ++n) {
        auto r = add_turn(*mm, n);
        ASSERT_TRUE(r.is_ok()) << r.status().to_string();
        acknowledged[n] = r.value().turn_ids.at(0);
    }
    expect_all_findable(*mm, acknowledged, "after the repair");
    auto report = mm->check_consistency();
    ASSERT_TRUE(report.is_ok());
    EXPECT_TRUE(report->consistent());

    mm.reset();
    mm = open_dir(dir, &clock);
    ASSERT_NE(mm, nullptr);
    expect_all_findable(*mm, acknowledged, "after a reopen");
}

TEST(IndexWriteFailureTest, InjectedEnospcLosesNoAcknowledgedTurn) {
    TempDir dir("enospc-injected");
    InjectedFault disk;
    run_full_disk_scenario(dir.path(), disk, disk.faults(), "injected ENOSPC");
}

// The same on a real full filesystem (the lexical index on a 2 MiB tmpfs) where this machine allows mounting;
// elsewhere the injected fault stands in, so the test always runs.
TEST(IndexWriteFailureTest, RealFullFilesystemLosesNoAcknowledgedTurn) {
    TempDir dir("enospc-tmpfs");
    auto tmpfs = TmpfsFault::mount_at(dir.path() / "lexical", 2 << 20);
    if (tmpfs) {
        run_full_disk_scenario(dir.path(), *tmpfs, nullptr, "tmpfs");
        tmpfs.reset();
    } else {
        InjectedFault disk;
        run_full_disk_scenario(dir.path(), disk, disk.faults(), "injected ENOSPC (mounting not allowed here)");
    }
}

// A crash (or close) while the disk is full: the next open repairs, checking every unit id (the marker file).
TEST(IndexWriteFailureTest, ADirtyIndexIsRepairedAtTheNextOpen) {
    TempDir dir("enospc-reopen");
    FakeClock clock(1700000000000);
    auto faults = std::make_shared<IndexWriteFaults>();
    std::map<int, std::string> acknowledged;
    {
        auto mm = open_dir(dir.path(), &clock, faults);
        ASSERT_NE(mm, nullptr);
        for (int n = 0; n < 10; ++n) acknowledged[n] = add_turn(*mm, n).value().turn_ids.at(0);
        ASSERT_TRUE(mm->flush().is_ok());
        faults->set_failing(true);
        for (int n = 10; n < 30; ++n) {
            auto r = add_turn(*mm, n);
            ASSERT_TRUE(r.is_ok()) << r.status().to_string();
            acknowledged[n] = r.value().turn_ids.at(0);
        }
        ASSERT_TRUE(mm->check_consistency().is_ok());
        EXPECT_TRUE(mm->index_health().dirty);
    }  // closed with the disk still full: the last repair and commit fail
    EXPECT_TRUE(fs::exists(dir.path() / "lexical.dirty"));
    faults->clear();
    auto mm = open_dir(dir.path(), &clock);
    ASSERT_NE(mm, nullptr);
    EXPECT_FALSE(mm->index_health().dirty);
    EXPECT_FALSE(fs::exists(dir.path() / "lexical.dirty"));
    expect_all_findable(*mm, acknowledged, "after the reopen");
    EXPECT_TRUE(mm->check_consistency()->consistent());
}

// kill -9 while the disk is full: the marker and the held-back watermark survive the crash, and the next open
// re-indexes every turn that was acknowledged.
TEST(IndexWriteFailureTest, ACrashWhileDirtyLosesNoAcknowledgedTurn) {
    TempDir dir("enospc-crash");
    FakeClock clock(1700000000000);
    {
        auto mm = open_dir(dir.path(), &clock);
        ASSERT_NE(mm, nullptr);
        for (int n = 0; n < 10; ++n) ASSERT_TRUE(add_turn(*mm, n).is_ok());
    }
    int pipe_fds[2];
    ASSERT_EQ(::pipe(pipe_fds), 0);
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        ::close(pipe_fds[0]);
        auto faults = std::make_shared<IndexWriteFaults>();
        auto mm = open_dir(dir.path(), &clock, faults);
        if (!mm) ::_exit(2);
        faults->set_failing(true);
        std::string acked;  // "n id\n" per acknowledged turn, for the parent
        for (int n = 10; n < 40; ++n) {
            auto r = add_turn(*mm, n);
            if (!r.is_ok()) ::_exit(3);
            acked += std::to_string(n) + " " + r.value().turn_ids.at(0) + "\n";
        }
        if (!mm->check_consistency().is_ok() || !mm->index_health().dirty) ::_exit(4);
        if (::write(pipe_fds[1], acked.data(), acked.size()) != static_cast<ssize_t>(acked.size())) ::_exit(5);
        ::kill(::getpid(), SIGKILL);  // no destructor, no last repair, no commit
        ::_exit(6);
    }
    ::close(pipe_fds[1]);
    std::string acked;
    char buf[4096];
    for (ssize_t got; (got = ::read(pipe_fds[0], buf, sizeof buf)) > 0;) acked.append(buf, static_cast<size_t>(got));
    ::close(pipe_fds[0]);
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    ASSERT_TRUE(WIFSIGNALED(status)) << "child exit " << WEXITSTATUS(status);
    EXPECT_TRUE(fs::exists(dir.path() / "lexical.dirty"));

    std::map<int, std::string> acknowledged;
    std::istringstream lines(acked);
    int n = 0;
    std::string id;
    while (lines >> n >> id) acknowledged[n] = id;
    ASSERT_EQ(acknowledged.size(), 30u);
    auto mm = open_dir(dir.path(), &clock);
    ASSERT_NE(mm, nullptr);
    EXPECT_FALSE(mm->index_health().dirty);
    EXPECT_FALSE(fs::exists(dir.path() / "lexical.dirty"));
    expect_all_findable(*mm, acknowledged, "after the crash");
    EXPECT_TRUE(mm->check_consistency()->consistent());
}

// check_consistency compares unit ids, so a document deleted behind the store's back is found even when another
// one, unknown to the store, keeps the counts equal; reindex restores it.
TEST(IndexWriteFailureTest, ConsistencyComparesUnitIdsAndReindexRepairs) {
    TempDir dir("consistency-ids");
    FakeClock clock(1700000000000);
    std::map<int, std::string> acknowledged;
    {
        auto mm = open_dir(dir.path(), &clock);
        ASSERT_NE(mm, nullptr);
        for (int n = 0; n < 10; ++n) acknowledged[n] = add_turn(*mm, n).value().turn_ids.at(0);
    }
    const std::string victim = acknowledged[3];
    {
        auto lexical = retrieval::LexicalIndex::open((dir.path() / "lexical").string());
        ASSERT_TRUE(lexical.is_ok()) << lexical.status().to_string();
        ASSERT_TRUE(lexical.value()->remove("u", retrieval::UnitType::kTurn, victim).is_ok());
        retrieval::UnitAttrs stray{"u", retrieval::UnitType::kTurn, "t-stray", 1700000000000, "user", "s0"};
        ASSERT_TRUE(lexical.value()->upsert(stray, "a turn the store never had").is_ok());
        ASSERT_TRUE(lexical.value()->commit().is_ok());
    }
    // As `kasten reindex --check-only` opens: the indexes as they are.
    auto mm = open_dir(dir.path(), &clock, nullptr, /*verify=*/false);
    ASSERT_NE(mm, nullptr);
    EXPECT_TRUE(find(*mm, 3).empty());
    auto report = mm->check_consistency();
    ASSERT_TRUE(report.is_ok()) << report.status().to_string();
    ASSERT_FALSE(report->consistent()) << "a missing document went unnoticed (the counts agree)";
    ASSERT_EQ(report->mismatches.size(), 1u);
    const auto& e = report->mismatches[0];
    EXPECT_EQ(e.cube_id, "u");
    EXPECT_EQ(e.unit_type, "turn");
    EXPECT_EQ(e.store_count, e.lexical_count);
    EXPECT_EQ(e.missing_lexical, std::vector<std::string>{victim});
    EXPECT_EQ(e.extra_lexical, std::vector<std::string>{"t-stray"});
    EXPECT_TRUE(e.missing_vector.empty());
    EXPECT_TRUE(e.extra_vector.empty());

    ASSERT_TRUE(mm->reindex("").is_ok());
    report = mm->check_consistency();
    ASSERT_TRUE(report.is_ok());
    EXPECT_TRUE(report->consistent());
    expect_all_findable(*mm, acknowledged, "after reindex");
}

}  // namespace
}  // namespace kasten::memory
