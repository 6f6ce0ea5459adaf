#include "memory/memory_manager.h"

#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <future>
#include <mutex>
#include <span>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

#include "llm/hashing_embedder.h"
#include "memory/heuristic_link_decider.h"
#include "memory/heuristic_note_builder.h"

namespace kasten::memory {
namespace {

namespace fs = std::filesystem;

class TempDir {
  public:
    TempDir() {
        path_ = fs::temp_directory_path() /
                ("kasten-mm-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter_++));
        fs::remove_all(path_);
    }
    ~TempDir() { fs::remove_all(path_); }
    std::string str() const { return path_.string(); }

  private:
    static inline int counter_ = 0;
    fs::path path_;
};

std::shared_ptr<const llm::Embedder> hashing(int dim = 128) {
    return std::make_shared<llm::HashingEmbedder>(dim);
}

std::unique_ptr<MemoryManager> open_mm(const std::string& dir, const Clock* clock,
                                       std::shared_ptr<const llm::Embedder> emb = hashing()) {
    MemoryOptions o;
    o.embedder = std::move(emb);
    o.clock = clock;
    if (dir.empty()) {
        o.in_memory = true;
    } else {
        o.data_dir = dir;
    }
    auto r = MemoryManager::open(o);
    EXPECT_TRUE(r.is_ok()) << r.status().to_string();
    return r.is_ok() ? std::move(r).value() : nullptr;
}

AddMessagesRequest conversation(const std::string& cube, const std::string& session, TimeMs t) {
    AddMessagesRequest req;
    req.cube_id = cube;
    req.session_id = session;
    req.time = t;
    req.messages = {{"user", "I adopted a beagle puppy named Biscuit last week", std::nullopt},
                    {"assistant", "Congratulations! Beagles are energetic and love long walks.", std::nullopt},
                    {"user", "My sister lives in Lisbon and works as an architect", std::nullopt}};
    return req;
}

NoteInput note(const std::string& content) {
    NoteInput in;
    in.content = content;
    return in;
}

std::vector<SearchHit> find(MemoryManager& mm, const std::string& cube, const std::string& q, Granularity g,
                            Retriever r = Retriever::kHybrid, int k = 10) {
    SearchRequest req;
    req.cube_id = cube;
    req.query = q;
    req.granularity = g;
    req.retriever = r;
    req.top_k = k;
    req.lend_context = false;  // the units that match, by their own keys
    auto res = mm.search(req);
    EXPECT_TRUE(res.is_ok()) << res.status().to_string();
    return res.is_ok() ? *res : std::vector<SearchHit>{};
}

class MemoryManagerTest : public ::testing::Test {
  protected:
    FakeClock clock_{1700000000000};
};

TEST_F(MemoryManagerTest, AddMessagesStoresTurnsAndSessionAndFindsThem) {
    auto mm = open_mm("", &clock_);
    auto added = mm->add_messages(conversation("alice", "chat-1", 1690000000000));
    ASSERT_TRUE(added.is_ok()) << added.status().to_string();
    EXPECT_EQ(added->session_id, "chat-1");
    ASSERT_EQ(added->turn_ids.size(), 3u);
    auto info = mm->get_cube("alice");
    ASSERT_TRUE(info.is_ok());
    EXPECT_EQ(info->turns, 3);
    EXPECT_EQ(info->sessions, 1);
    for (Retriever r : {Retriever::kLexical, Retriever::kVector, Retriever::kHybrid}) {
        auto hits = find(*mm, "alice", "beagle puppy", Granularity::kTurn, r);
        ASSERT_FALSE(hits.empty()) << retriever_name(r);
        EXPECT_EQ(hits[0].id, added->turn_ids[0]) << retriever_name(r);
        EXPECT_EQ(hits[0].session_id, "chat-1");
        EXPECT_EQ(hits[0].role, "user");
        EXPECT_EQ(hits[0].time, 1690000000000);
        auto sessions = find(*mm, "alice", "sister architect Lisbon", Granularity::kSession, r);
        ASSERT_EQ(sessions.size(), 1u);
        EXPECT_EQ(sessions[0].id, "chat-1");
        EXPECT_EQ(sessions[0].turn_ids.size(), 3u);
    }
    auto view = mm->get_session("alice", "chat-1");
    ASSERT_TRUE(view.is_ok());
    ASSERT_EQ(view->turns.size(), 3u);
    EXPECT_EQ(view->turns[2].index, 2);
    // Appending to the session continues the numbering and re-indexes the session.
    AddMessagesRequest more;
    more.cube_id = "alice";
    more.session_id = "chat-1";
    more.messages = {{"user", "Biscuit chewed my favourite sneakers", 1690000100000}};
    ASSERT_TRUE(mm->add_messages(more).is_ok());
    view = mm->get_session("alice", "chat-1");
    EXPECT_EQ(view->turns.back().index, 3);
    auto s = find(*mm, "alice", "sneakers", Granularity::kSession, Retriever::kLexical);
    ASSERT_EQ(s.size(), 1u);
}

// An append updates the session key from its running sums: a session grown one turn at a time is keyed exactly like
// the same session added in one call (same vector score, same lexical score), on disk and after a restart.
TEST_F(MemoryManagerTest, ASessionGrownOneTurnAtATimeIsKeyedLikeOneAddedWhole) {
    TempDir dir;
    std::vector<MessageInput> turns;
    for (int i = 0; i < 30; ++i) {
        turns.push_back({i % 3 == 2 ? "assistant" : "user",
                         "turn " + std::to_string(i) + " about kayaks, the harbour and my cousin Rosa", std::nullopt});
    }
    auto score = [&](MemoryManager& mm, const std::string& cube, Retriever r) {
        SearchRequest s;
        s.cube_id = cube;
        s.query = "kayak trip with Rosa";
        s.granularity = Granularity::kSession;
        s.retriever = r;
        s.note_keys = false;
        auto hits = mm.search(s);
        EXPECT_TRUE(hits.is_ok() && !hits->empty());
        return hits.is_ok() && !hits->empty() ? (*hits)[0].rank_score : -1.0;
    };
    for (int reopen = 0; reopen < 2; ++reopen) {
        auto mm = open_mm(dir.str(), &clock_);
        ASSERT_NE(mm, nullptr);
        if (reopen == 0) {
            AddMessagesRequest whole;
            whole.cube_id = "bulk";
            whole.session_id = "s";
            whole.time = 1690000000000;
            whole.messages = turns;
            ASSERT_TRUE(mm->add_messages(whole).is_ok());
            // The incremental session: its first 10 turns in one call, the rest one at a time.
            AddMessagesRequest part = whole;
            part.cube_id = "steps";
            part.messages.assign(turns.begin(), turns.begin() + 10);
            ASSERT_TRUE(mm->add_messages(part).is_ok());
            for (size_t i = 10; i < turns.size(); ++i) {
                part.messages = {turns[i]};
                ASSERT_TRUE(mm->add_messages(part).is_ok());
            }
        }
        // BM25 statistics span the whole index: let every queued change land so both searches see the same ones.
        auto report = mm->check_consistency();
        ASSERT_TRUE(report.is_ok() && report->consistent());
        for (Retriever r : {Retriever::kVector, Retriever::kLexical}) {
            const double bulk = score(*mm, "bulk", r);
            const double steps = score(*mm, "steps", r);
            EXPECT_GT(bulk, 0) << retriever_name(r);
            EXPECT_NEAR(bulk, steps, 1e-9) << retriever_name(r) << (reopen ? " after a restart" : "");
        }
    }
}

TEST_F(MemoryManagerTest, CubesAreIsolated) {
    auto mm = open_mm("", &clock_);
    ASSERT_TRUE(mm->add_messages(conversation("alice", "a", 1)).is_ok());
    AddMessagesRequest bob;
    bob.cube_id = "bob";
    bob.messages = {{"user", "I collect vintage typewriters", std::nullopt}};
    ASSERT_TRUE(mm->add_messages(bob).is_ok());
    for (Retriever r : {Retriever::kLexical, Retriever::kVector, Retriever::kHybrid}) {
        for (const auto& h : find(*mm, "bob", "beagle puppy Biscuit sister", Granularity::kTurn, r)) {
            EXPECT_NE(h.text.find("typewriters"), std::string::npos);
        }
    }
    SearchRequest nobody;
    nobody.cube_id = "nobody";
    nobody.query = "x";
    auto missing = mm->search(nobody);
    EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
}

TEST_F(MemoryManagerTest, FiltersByTimeRoleAndSession) {
    auto mm = open_mm("", &clock_);
    ASSERT_TRUE(mm->add_messages(conversation("c", "early", 1000000)).is_ok());
    ASSERT_TRUE(mm->add_messages(conversation("c", "late", 9000000)).is_ok());
    SearchRequest req;
    req.cube_id = "c";
    req.query = "beagle puppy sister";
    req.time_from = 5000000;
    auto late = mm->search(req).value();
    ASSERT_FALSE(late.empty());
    for (const auto& h : late) EXPECT_EQ(h.session_id, "late");
    req.time_from.reset();
    req.session_id = "early";
    auto hits = mm->search(req).value();
    ASSERT_FALSE(hits.empty());
    for (const auto& h : hits) EXPECT_EQ(h.session_id, "early");
    req.session_id.reset();
    req.role = "assistant";
    hits = mm->search(req).value();
    ASSERT_FALSE(hits.empty());
    for (const auto& h : hits) EXPECT_EQ(h.role, "assistant");
    req.role = "boss";
    EXPECT_EQ(mm->search(req).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(MemoryManagerTest, RejectsBadInputAndStoresNothing) {
    auto mm = open_mm("", &clock_);
    AddMessagesRequest req = conversation("c", "s", 1);
    req.messages[1].role = "robot";
    EXPECT_EQ(mm->add_messages(req).status().code(), StatusCode::kInvalidArgument);
    req = conversation("c", "s", 1);
    req.messages[2].content = "bad \xff utf8";
    EXPECT_EQ(mm->add_messages(req).status().code(), StatusCode::kInvalidArgument);
    req = conversation("bad cube id", "s", 1);
    EXPECT_EQ(mm->add_messages(req).status().code(), StatusCode::kInvalidArgument);
    req = conversation("c", "s", 1);
    req.messages.clear();
    EXPECT_EQ(mm->add_messages(req).status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(mm->list_cubes().value().size(), 0u);
    // SQL and quotes are data.
    req = conversation("c", "s", 1);
    req.messages[0].content = "'); DROP TABLE turns;-- \"quoted\"";
    ASSERT_TRUE(mm->add_messages(req).is_ok());
    EXPECT_EQ(mm->get_session("c", "s")->turns[0].content, "'); DROP TABLE turns;-- \"quoted\"");
}

TEST_F(MemoryManagerTest, NoteLifecycleWithVersionsAndCascadingDelete) {
    auto mm = open_mm("", &clock_);
    ASSERT_TRUE(mm->create_cube("alice", "Alice", "test").is_ok());
    EXPECT_EQ(mm->create_cube("alice", "", "test").status().code(), StatusCode::kAlreadyExists);
    NoteInput in;
    in.content = "Alice is allergic to peanuts";
    in.keywords = {"allergy", "peanuts"};
    in.tags = {"health"};
    auto note = mm->add_note("alice", in, "test");
    ASSERT_TRUE(note.is_ok()) << note.status().to_string();
    EXPECT_EQ(note->version, 1);
    EXPECT_FALSE(note->content_hash.empty());
    auto hits = find(*mm, "alice", "peanut allergy", Granularity::kNote);
    ASSERT_EQ(hits.size(), 1u);
    EXPECT_EQ(hits[0].id, note->id);

    clock_.advance(1000);
    NotePatch p;
    p.content = "Alice is allergic to peanuts and shellfish";
    p.tags = std::vector<std::string>{"health", "food"};
    auto patched = mm->patch_note("alice", note->id, p);
    ASSERT_TRUE(patched.is_ok()) << patched.status().to_string();
    EXPECT_EQ(patched->version, 2);
    auto history = mm->note_history("alice", note->id);
    ASSERT_TRUE(history.is_ok());
    ASSERT_EQ(history->size(), 2u);
    EXPECT_EQ((*history)[0].content, "Alice is allergic to peanuts");
    EXPECT_EQ((*history)[1].content, "Alice is allergic to peanuts and shellfish");
    hits = find(*mm, "alice", "shellfish", Granularity::kNote, Retriever::kLexical);
    ASSERT_EQ(hits.size(), 1u);
    // A patch that changes nothing is a no-op: no version, no update.
    clock_.advance(1000);
    auto same = mm->patch_note("alice", note->id, p);
    ASSERT_TRUE(same.is_ok()) << same.status().to_string();
    EXPECT_EQ(same->version, 2);
    EXPECT_EQ(same->content, "Alice is allergic to peanuts and shellfish");
    EXPECT_EQ(mm->note_history("alice", note->id)->size(), 2u);
    EXPECT_EQ(same->updated_at, patched->updated_at);

    ASSERT_TRUE(mm->delete_note("alice", note->id, "test").is_ok());
    EXPECT_EQ(mm->get_note("alice", note->id).status().code(), StatusCode::kNotFound);
    for (Retriever r : {Retriever::kLexical, Retriever::kVector, Retriever::kHybrid}) {
        EXPECT_TRUE(find(*mm, "alice", "peanuts shellfish allergic", Granularity::kNote, r).empty());
    }
    EXPECT_TRUE(mm->list_notes("alice", std::nullopt, 100, 0).value().empty());
    EXPECT_TRUE(mm->check_consistency().value().consistent());
}

TEST_F(MemoryManagerTest, AsOfSeesSupersededNotes) {
    auto mm = open_mm("", &clock_);
    ASSERT_TRUE(mm->create_cube("u", "", "t").is_ok());
    NoteInput in;
    in.content = "The user lives in Boston";
    auto old_note = mm->add_note("u", in, "t").value();
    clock_.advance(10000);
    NotePatch close;
    close.status = store::NoteStatus::kSuperseded;
    close.reason = "supersede";
    TimeMs before = clock_.now_ms() - 1;
    ASSERT_TRUE(mm->patch_note("u", old_note.id, close).is_ok());
    in.content = "The user lives in Denver";
    ASSERT_TRUE(mm->add_note("u", in, "t").is_ok());
    auto now_hits = find(*mm, "u", "where does the user live", Granularity::kNote);
    ASSERT_EQ(now_hits.size(), 1u);
    EXPECT_NE(now_hits[0].text.find("Denver"), std::string::npos);
    SearchRequest req;
    req.cube_id = "u";
    req.query = "where does the user live";
    req.granularity = Granularity::kNote;
    req.as_of = before;
    auto then = mm->search(req).value();
    ASSERT_EQ(then.size(), 1u);
    EXPECT_NE(then[0].text.find("Boston"), std::string::npos);
}

TEST_F(MemoryManagerTest, DeleteCubeCascadesEverywhere) {
    auto mm = open_mm("", &clock_);
    ASSERT_TRUE(mm->add_messages(conversation("alice", "s", 1)).is_ok());
    ASSERT_TRUE(mm->add_messages(conversation("bob", "s", 1)).is_ok());
    ASSERT_TRUE(mm->add_note("alice", note("Alice likes jazz"), "t").is_ok());
    ASSERT_TRUE(mm->delete_cube("alice", "t").is_ok());
    EXPECT_EQ(mm->get_cube("alice").status().code(), StatusCode::kNotFound);
    EXPECT_EQ(mm->delete_cube("alice", "t").code(), StatusCode::kNotFound);
    // Recreating the cube starts empty: nothing of the old one is found.
    ASSERT_TRUE(mm->create_cube("alice", "", "t").is_ok());
    for (auto g : {Granularity::kTurn, Granularity::kSession, Granularity::kNote}) {
        EXPECT_TRUE(find(*mm, "alice", "beagle puppy jazz sister", g).empty());
    }
    EXPECT_EQ(find(*mm, "bob", "beagle", Granularity::kTurn, Retriever::kLexical).size(), 2u);
    EXPECT_TRUE(mm->check_consistency().value().consistent());
}

TEST_F(MemoryManagerTest, DeleteTurnAndSession) {
    auto mm = open_mm("", &clock_);
    auto added = mm->add_messages(conversation("c", "s1", 1)).value();
    ASSERT_TRUE(mm->delete_turn("c", added.turn_ids[0], "t").is_ok());
    EXPECT_TRUE(find(*mm, "c", "adopted Biscuit", Granularity::kTurn, Retriever::kLexical).empty());
    EXPECT_TRUE(find(*mm, "c", "adopted Biscuit", Granularity::kSession, Retriever::kLexical).empty());
    EXPECT_EQ(find(*mm, "c", "Lisbon", Granularity::kSession, Retriever::kLexical).size(), 1u);
    ASSERT_TRUE(mm->delete_session("c", "s1", "t").is_ok());
    EXPECT_TRUE(find(*mm, "c", "Lisbon architect", Granularity::kTurn).empty());
    EXPECT_TRUE(find(*mm, "c", "Lisbon architect", Granularity::kSession).empty());
    EXPECT_EQ(mm->get_cube("c")->turns, 0);
    EXPECT_TRUE(mm->check_consistency().value().consistent());
}

TEST_F(MemoryManagerTest, ExportImportRoundTripsExactly) {
    auto mm = open_mm("", &clock_);
    ASSERT_TRUE(mm->add_messages(conversation("alice", "s1", 1690000000000)).is_ok());
    auto added_note = mm->add_note("alice", note("Alice's dog is called Biscuit"), "t").value();
    NotePatch p;
    p.context = "pets";
    ASSERT_TRUE(mm->patch_note("alice", added_note.id, p).is_ok());
    std::stringstream first;
    ASSERT_TRUE(mm->export_cube("alice", first).is_ok());
    // Into a fresh store under the same id: identical export.
    auto other = open_mm("", &clock_);
    std::istringstream in(first.str());
    auto sum = other->import_cube(in, std::nullopt, "t");
    ASSERT_TRUE(sum.is_ok()) << sum.status().to_string();
    EXPECT_EQ(sum->turns, 3);
    EXPECT_EQ(sum->note_versions, 2);
    std::stringstream second;
    ASSERT_TRUE(other->export_cube("alice", second).is_ok());
    EXPECT_EQ(second.str(), first.str());
    EXPECT_EQ(find(*other, "alice", "adopted", Granularity::kTurn, Retriever::kLexical).size(), 1u);
    EXPECT_EQ(other->note_history("alice", added_note.id)->size(), 2u);
    // Same store: the ids clash, nothing is stored.
    std::istringstream again(first.str());
    EXPECT_EQ(mm->import_cube(again, std::string("alice2"), "t").status().code(), StatusCode::kAlreadyExists);
    EXPECT_EQ(mm->get_cube("alice2").status().code(), StatusCode::kNotFound);
    // After deleting the original, restoring under its id gives the same export.
    ASSERT_TRUE(mm->delete_cube("alice", "t").is_ok());
    std::istringstream restore(first.str());
    ASSERT_TRUE(mm->import_cube(restore, std::nullopt, "t").is_ok());
    std::stringstream third;
    ASSERT_TRUE(mm->export_cube("alice", third).is_ok());
    EXPECT_EQ(third.str(), first.str());
    // New ids: a copy beside its original, every reference following its record.
    std::istringstream copy_in(first.str());
    auto copy = mm->import_cube(copy_in, std::string("alice-copy"), "t", ImportIds::kReassign);
    ASSERT_TRUE(copy.is_ok()) << copy.status().to_string();
    EXPECT_EQ(copy->id_map.size(), static_cast<size_t>(copy->sessions + copy->turns + copy->notes));
    EXPECT_EQ(copy->dropped_references, 0);
    const std::string copied_note = copy->id_map.at(added_note.id);
    EXPECT_NE(copied_note, added_note.id);
    EXPECT_EQ(mm->note_history("alice-copy", copied_note)->size(), 2u);
    EXPECT_EQ(find(*mm, "alice-copy", "adopted", Granularity::kTurn, Retriever::kLexical).size(), 1u);
    EXPECT_EQ(find(*mm, "alice", "adopted", Granularity::kTurn, Retriever::kLexical).size(), 1u);
    EXPECT_TRUE(mm->check_consistency().value().consistent());
    // A broken archive stores nothing.
    std::istringstream broken(first.str() + "{\"type\":\"turn\"}\n");
    EXPECT_EQ(other->import_cube(broken, std::string("zed"), "t").status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(other->get_cube("zed").status().code(), StatusCode::kNotFound);
}

TEST_F(MemoryManagerTest, AReadOnlyDataDirIsReportedAsSuch) {
    TempDir dir;
    {
        auto mm = open_mm(dir.str(), &clock_);
        ASSERT_TRUE(mm);
    }
    // Write permission goes from the data dir; a process without it (root ignores mode bits, so the check runs in a
    // child that gives up root) must be told that, not that another process holds a lock.
    fs::permissions(dir.str(), fs::perms::owner_read | fs::perms::owner_exec | fs::perms::group_read |
                                   fs::perms::group_exec | fs::perms::others_read | fs::perms::others_exec);
    fs::permissions(fs::path(dir.str()).parent_path(), fs::perms::others_exec, fs::perm_options::add);
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        if (::geteuid() == 0 && (::setgid(65534) != 0 || ::setuid(65534) != 0)) ::_exit(3);
        MemoryOptions o;
        o.embedder = hashing();
        o.data_dir = dir.str();
        auto r = MemoryManager::open(o);
        if (r.is_ok()) ::_exit(1);
        const std::string& m = r.status().message();
        const bool says_so = r.status().code() == StatusCode::kPermissionDenied &&
                             m.find("is not writable") != std::string::npos && m.find("locked") == std::string::npos;
        ::_exit(says_so ? 0 : 2);
    }
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    fs::permissions(dir.str(), fs::perms::owner_all, fs::perm_options::add);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0) << "1: opened a read-only dir, 2: wrong error, 3: could not drop root";
}

TEST_F(MemoryManagerTest, ReopenRecoversIndexesFromTheStore) {
    TempDir dir;
    std::vector<std::string> ids;
    {
        auto mm = open_mm(dir.str(), &clock_);
        for (int i = 0; i < 5; ++i) {
            auto r = mm->add_messages(conversation("alice", "s" + std::to_string(i), 1000 * i));
            ASSERT_TRUE(r.is_ok());
            for (auto& id : r->turn_ids) ids.push_back(id);
        }
    }
    // The lexical index is derived data: wipe it and reopen.
    fs::remove_all(fs::path(dir.str()) / "lexical");
    auto mm = open_mm(dir.str(), &clock_);
    ASSERT_NE(mm, nullptr);
    EXPECT_TRUE(mm->check_consistency().value().consistent());
    EXPECT_EQ(find(*mm, "alice", "adopted", Granularity::kTurn, Retriever::kLexical, 50).size(), 5u);
    EXPECT_EQ(find(*mm, "alice", "beagle", Granularity::kSession, Retriever::kVector, 50).size(), 5u);
    for (const auto& id : ids) EXPECT_TRUE(mm->get_turn("alice", id).is_ok());
    // A second process on the same data dir is refused with a clear error.
    MemoryOptions o;
    o.embedder = hashing();
    o.data_dir = dir.str();
    auto second = MemoryManager::open(o);
    EXPECT_EQ(second.status().code(), StatusCode::kBusy);
}

TEST_F(MemoryManagerTest, ForeignEmbedderIsRefusedUntilReindex) {
    TempDir dir;
    {
        auto mm = open_mm(dir.str(), &clock_, hashing(128));
        ASSERT_TRUE(mm->add_messages(conversation("alice", "s", 1)).is_ok());
    }
    auto mm = open_mm(dir.str(), &clock_, hashing(64));
    SearchRequest req;
    req.cube_id = "alice";
    req.query = "beagle";
    EXPECT_EQ(mm->search(req).status().code(), StatusCode::kFailedPrecondition);
    req.retriever = Retriever::kLexical;
    EXPECT_TRUE(mm->search(req).is_ok());
    EXPECT_EQ(mm->add_messages(conversation("alice", "s2", 1)).status().code(), StatusCode::kFailedPrecondition);
    auto sum = mm->reindex("alice");
    ASSERT_TRUE(sum.is_ok()) << sum.status().to_string();
    EXPECT_EQ(sum->reembedded, 4);  // 3 turns + 1 session
    req.retriever = Retriever::kVector;
    auto hits = mm->search(req);
    ASSERT_TRUE(hits.is_ok()) << hits.status().to_string();
    EXPECT_FALSE(hits->empty());
    EXPECT_TRUE(mm->check_consistency().value().consistent());
    EXPECT_EQ(mm->get_cube("alice")->cube.embedder_id, mm->embedder_id());
}

}  // namespace
}  // namespace kasten::memory

namespace kasten::memory {
namespace {

// On-disk stores index turns in the background: every acknowledged add must be searchable at once, and removals
// must never be overtaken by queued upserts.
TEST(MemoryManagerBackgroundIndexTest, ReadsSeeEveryAcknowledgedAddAndDeletesWin) {
    TempDir dir;
    FakeClock clock;
    auto mm = open_mm(dir.str(), &clock);
    ASSERT_NE(mm, nullptr);
    std::vector<std::thread> writers;
    for (int w = 0; w < 2; ++w) {
        writers.emplace_back([&, w] {
            for (int i = 0; i < 40; ++i) {
                auto r = mm->add_messages(conversation("c", "w" + std::to_string(w) + "-" + std::to_string(i), i));
                EXPECT_TRUE(r.is_ok()) << r.status().to_string();
            }
        });
    }
    for (auto& t : writers) t.join();
    EXPECT_EQ(find(*mm, "c", "adopted", Granularity::kTurn, Retriever::kLexical, 200).size(), 80u);
    EXPECT_EQ(find(*mm, "c", "adopted", Granularity::kSession, Retriever::kLexical, 200).size(), 80u);
    EXPECT_TRUE(mm->check_consistency().value().consistent());
    for (int i = 0; i < 20; ++i) ASSERT_TRUE(mm->add_messages(conversation("d", "s" + std::to_string(i), i)).is_ok());
    ASSERT_TRUE(mm->delete_cube("d", "t").is_ok());
    ASSERT_TRUE(mm->create_cube("d", "", "t").is_ok());
    EXPECT_TRUE(find(*mm, "d", "adopted", Granularity::kTurn, Retriever::kLexical, 200).empty());
    mm.reset();
    // Reopen: nothing to repair, same answers.
    auto again = open_mm(dir.str(), &clock);
    EXPECT_TRUE(again->check_consistency().value().consistent());
    EXPECT_EQ(find(*again, "c", "adopted", Granularity::kTurn, Retriever::kLexical, 200).size(), 80u);
}

}  // namespace
}  // namespace kasten::memory

namespace kasten::memory {
namespace {

// A search reads the store through one lease for its whole run (Searcher): with a single read connection, every
// kind of search (every granularity, notes as keys and linked notes, lent context, a second hop, an event-anchored
// time, a session filter) completes, so nothing inside a search takes a second lease (it would wait for ever for
// the one connection its own caller holds).
TEST(MemoryManagerOneLeaseTest, EverySearchCompletesWithASingleReadConnection) {
    TempDir dir;
    FakeClock clock{1700000000000};
    MemoryOptions o;
    o.embedder = hashing();
    o.clock = &clock;
    o.data_dir = dir.str();
    o.read_connections = 1;
    o.note_builder = std::make_shared<HeuristicNoteBuilder>();
    o.link_decider = std::make_shared<HeuristicLinkDecider>();
    o.background_jobs = false;
    auto opened = MemoryManager::open(o);
    ASSERT_TRUE(opened.is_ok()) << opened.status().to_string();
    MemoryManager& mm = **opened;
    ASSERT_TRUE(mm.add_messages(conversation("c", "s1", 1690000000000)).is_ok());
    AddMessagesRequest trip;
    trip.cube_id = "c";
    trip.session_id = "s2";
    trip.time = 1690200000000;
    trip.messages = {{"user", "Two days after I adopted Biscuit I flew to Porto for a wedding", std::nullopt},
                     {"user", "In Porto I bought a blue ceramic tile for my sister in Lisbon", std::nullopt}};
    ASSERT_TRUE(mm.add_messages(trip).is_ok());
    auto ran = mm.run_jobs();
    ASSERT_TRUE(ran.is_ok()) << ran.status().to_string();
    ASSERT_FALSE(mm.list_notes("c", std::nullopt, 100, 0)->empty());

    std::vector<SearchRequest> searches;
    for (Granularity g : {Granularity::kTurn, Granularity::kSession, Granularity::kNote}) {
        for (const char* q : {"beagle puppy", "Did I fly to Porto or to Lisbon first?",
                              "What did I buy two days after I adopted the beagle?"}) {
            SearchRequest req;
            req.cube_id = "c";
            req.query = q;
            req.granularity = g;
            searches.push_back(req);
            req.session_id = "s2";
            searches.push_back(req);
        }
    }
    for (const SearchRequest& req : searches) {
        auto done = std::async(std::launch::async, [&] { return mm.search(req); });
        if (done.wait_for(std::chrono::seconds(60)) != std::future_status::ready) {
            ADD_FAILURE() << "search '" << req.query << "' (" << granularity_name(req.granularity)
                          << ") did not finish in 60 s: it waits for a second read connection";
            std::_Exit(1);  // the search thread cannot be joined
        }
        auto hits = done.get();
        ASSERT_TRUE(hits.is_ok()) << req.query << ": " << hits.status().to_string();
        EXPECT_FALSE(hits->empty()) << req.query << " (" << granularity_name(req.granularity) << ")";
    }
}

}  // namespace
}  // namespace kasten::memory

namespace kasten::memory {
namespace {

// Notes as keys read their sources from memory (NoteSourceIndex): a note's text credits its source turn and session,
// across a restart (loaded from the store), and no longer once the note is archived or deleted.
TEST(MemoryManagerNoteSourcesTest, ANoteCreditsItsSourcesUntilItIsArchivedOrDeletedAcrossARestart) {
    TempDir dir;
    FakeClock clock{1700000000000};
    auto mm = open_mm(dir.str(), &clock);
    ASSERT_NE(mm, nullptr);
    auto added = mm->add_messages(conversation("c", "s1", 1690000000000));
    ASSERT_TRUE(added.is_ok()) << added.status().to_string();
    AddMessagesRequest other;
    other.cube_id = "c";
    other.session_id = "s2";
    other.messages = {{"user", "The weather was grey and windy all weekend", std::nullopt}};
    ASSERT_TRUE(mm->add_messages(other).is_ok());
    NoteInput in = note("Biscuit is a zephyr quokka enthusiast");
    in.source_turn_ids = {added->turn_ids[2]};
    auto n = mm->add_note("c", in, "test");
    ASSERT_TRUE(n.is_ok()) << n.status().to_string();

    auto credited = [&](MemoryManager& m, Granularity g) {
        SearchRequest req;
        req.cube_id = "c";
        req.query = "zephyr quokka";
        req.granularity = g;
        req.retriever = Retriever::kLexical;
        req.lend_context = false;
        auto hits = m.search(req);
        EXPECT_TRUE(hits.is_ok()) << hits.status().to_string();
        std::vector<std::string> out;
        if (hits.is_ok()) {
            for (const auto& h : *hits) out.push_back(h.id);
        }
        return out;
    };
    const std::vector<std::string> turn = {added->turn_ids[2]};
    const std::vector<std::string> session = {"s1"};
    EXPECT_EQ(credited(*mm, Granularity::kTurn), turn);
    EXPECT_EQ(credited(*mm, Granularity::kSession), session);
    mm.reset();
    mm = open_mm(dir.str(), &clock);
    ASSERT_NE(mm, nullptr);
    EXPECT_EQ(credited(*mm, Granularity::kTurn), turn);
    EXPECT_EQ(credited(*mm, Granularity::kSession), session);
    NotePatch archive;
    archive.status = store::NoteStatus::kArchived;
    ASSERT_TRUE(mm->patch_note("c", n->id, archive).is_ok());
    EXPECT_TRUE(credited(*mm, Granularity::kTurn).empty());
    archive.status = store::NoteStatus::kActive;
    ASSERT_TRUE(mm->patch_note("c", n->id, archive).is_ok());
    EXPECT_EQ(credited(*mm, Granularity::kTurn), turn);
    ASSERT_TRUE(mm->delete_note("c", n->id, "test").is_ok());
    EXPECT_TRUE(credited(*mm, Granularity::kTurn).empty());
    EXPECT_TRUE(credited(*mm, Granularity::kSession).empty());
}

}  // namespace
}  // namespace kasten::memory

namespace kasten::memory {
namespace {

// What a search shows comes from the hit cache where it can (memory/hit_cache.h), kept in step with every change:
// after each change below, a running manager answers exactly as one reopened on the same data dir (empty cache,
// every row read from the store) — texts, session ids, scores.
TEST(MemoryManagerHitCacheTest, SearchesAfterEveryChangeMatchAFreshProcess) {
    TempDir dir;
    FakeClock clock{1700000000000};
    auto mm = open_mm(dir.str(), &clock);
    ASSERT_NE(mm, nullptr);
    auto added = mm->add_messages(conversation("c", "s1", 1690000000000));
    ASSERT_TRUE(added.is_ok()) << added.status().to_string();
    NoteInput in = note("Biscuit the beagle loves the beach at Cascais");
    in.source_turn_ids = {added->turn_ids[0]};  // a key of that turn: its text scores the turn
    auto n = mm->add_note("c", in, "test");
    ASSERT_TRUE(n.is_ok()) << n.status().to_string();

    auto answers = [](MemoryManager& m) {
        std::vector<std::string> out;
        for (Granularity g : {Granularity::kTurn, Granularity::kSession}) {
            for (const char* q : {"beagle beach", "sister architect Lisbon", "Cascais"}) {
                SearchRequest req;
                req.cube_id = "c";
                req.query = q;
                req.granularity = g;
                auto hits = m.search(req);
                if (!hits) {
                    out.push_back(std::string(q) + ": " + hits.status().to_string());
                    continue;
                }
                for (const auto& h : *hits) {
                    out.push_back(std::string(q) + " | " + h.id + " | " + h.session_id + " | " + h.text + " | " +
                                  std::to_string(h.score));
                }
            }
        }
        return out;
    };
    auto same_as_fresh = [&](const char* step) {
        const auto running = answers(*mm);
        const auto again = answers(*mm);  // now from the cache
        mm.reset();
        mm = open_mm(dir.str(), &clock);
        ASSERT_NE(mm, nullptr);
        EXPECT_EQ(running, again) << step;
        EXPECT_EQ(running, answers(*mm)) << step;
        EXPECT_FALSE(running.empty()) << step;
    };
    same_as_fresh("after the adds");
    answers(*mm);  // fill the cache, then change what it holds
    const ManagerStats stats = mm->stats();
    EXPECT_GT(stats.hit_cache_hits, 0);
    EXPECT_GT(stats.hit_cache_entries, 0);
    EXPECT_GT(stats.hit_cache_bytes, 0);
    NotePatch edit;
    edit.content = "Biscuit now prefers the lake to the beach";
    ASSERT_TRUE(mm->patch_note("c", n->id, edit).is_ok());
    same_as_fresh("after a note edit");
    answers(*mm);
    ASSERT_TRUE(mm->delete_session("c", "s1", "test").is_ok());
    AddMessagesRequest again = conversation("c", "s1", 1690100000000);  // same external id, new session
    again.messages[0].content = "The beagle chewed my sister's architecture books";
    ASSERT_TRUE(mm->add_messages(again).is_ok());
    same_as_fresh("after a session was replaced");
    answers(*mm);
    ASSERT_TRUE(mm->delete_cube("c", "test").is_ok());
    SearchRequest gone;
    gone.cube_id = "c";
    gone.query = "beagle";
    auto missing = mm->search(gone);
    ASSERT_FALSE(missing.is_ok());
    EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
    ASSERT_TRUE(mm->add_messages(conversation("c", "s9", 1690200000000)).is_ok());
    same_as_fresh("after the cube was deleted and filled again");
}

}  // namespace
}  // namespace kasten::memory

namespace kasten::memory {
namespace {

// A background add (bulk work, on the manager's lowest-priority lane) stores and finds exactly what an interactive
// add stores, and fails the same way.
TEST(MemoryManagerBackgroundAddTest, StoresAndFindsWhatAnInteractiveAddDoes) {
    FakeClock clock{1700000000000};
    auto interactive = open_mm("", &clock);
    auto background = open_mm("", &clock);
    ASSERT_NE(interactive, nullptr);
    ASSERT_NE(background, nullptr);
    AddMessagesRequest req = conversation("c", "s1", 1690000000000);
    auto a = interactive->add_messages(req);
    req.background = true;
    auto b = background->add_messages(req);
    ASSERT_TRUE(a.is_ok()) << a.status().to_string();
    ASSERT_TRUE(b.is_ok()) << b.status().to_string();
    EXPECT_EQ(a->session_id, b->session_id);
    EXPECT_EQ(a->turn_ids.size(), b->turn_ids.size());
    auto texts = [](MemoryManager& mm) {
        std::vector<std::string> out;
        auto session = mm.get_session("c", "s1");
        EXPECT_TRUE(session.is_ok()) << session.status().to_string();
        if (session) {
            for (const auto& t : session->turns) out.push_back(t.role + ": " + t.content);
        }
        for (Granularity g : {Granularity::kTurn, Granularity::kSession}) {
            for (const auto& h : find(mm, "c", "beagle sister Lisbon", g)) {
                out.push_back(h.text + " | " + std::to_string(h.score));
            }
        }
        return out;
    };
    const auto from_interactive = texts(*interactive);
    EXPECT_FALSE(from_interactive.empty());
    EXPECT_EQ(from_interactive, texts(*background));  // searchable as soon as the call returns
    EXPECT_EQ(interactive->stats().background_adds, 0);
    EXPECT_EQ(background->stats().background_adds, 1);

    AddMessagesRequest empty = conversation("c", "s2", 1690000000000);
    empty.messages.clear();
    auto ea = interactive->add_messages(empty);
    empty.background = true;
    auto eb = background->add_messages(empty);
    ASSERT_FALSE(ea.is_ok());
    ASSERT_FALSE(eb.is_ok());
    EXPECT_EQ(ea.status().to_string(), eb.status().to_string());
}

// Embeds like HashingEmbedder; a text containing "HOLD" blocks its embedding until release().
class HoldingEmbedder final : public llm::Embedder {
  public:
    std::string id() const override { return inner_.id(); }
    int dim() const override { return inner_.dim(); }
    void embed(std::string_view text, std::span<float> out) const override {
        hold_if_marked(text);
        inner_.embed(text, out);
    }
    void accumulate(std::string_view text, std::span<float> sum) const override {
        hold_if_marked(text);
        inner_.accumulate(text, sum);
    }
    using Embedder::embed;

    // Arms the hold for the next marked text.
    void arm() const {
        std::lock_guard<std::mutex> lock(mu_);
        held_ = false;
        released_ = false;
    }
    void wait_until_held() const {
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait(lock, [&] { return held_; });
    }
    void release() const {
        std::lock_guard<std::mutex> lock(mu_);
        released_ = true;
        cv_.notify_all();
    }

  private:
    void hold_if_marked(std::string_view text) const {
        if (text.find("HOLD") == std::string_view::npos) return;
        std::unique_lock<std::mutex> lock(mu_);
        held_ = true;
        cv_.notify_all();
        cv_.wait(lock, [&] { return released_; });
    }
    llm::HashingEmbedder inner_{128};
    mutable std::mutex mu_;
    mutable std::condition_variable cv_;
    mutable bool held_ = false;
    mutable bool released_ = false;
};

// While a background add runs (here held in its embedding, on the lane), hybrid searches run both halves on their
// own thread and leave the second core to it; afterwards a lone search may use the helper again.
TEST(MemoryManagerBackgroundAddTest, SearchesLeaveTheHelperAloneWhileABackgroundAddRuns) {
    TempDir dir;
    FakeClock clock{1700000000000};
    auto embedder = std::make_shared<HoldingEmbedder>();
    auto mm = open_mm(dir.str(), &clock, embedder);
    ASSERT_NE(mm, nullptr);
    // A cube large enough that a search's lexical half takes a while (the helper would start the vector half).
    for (int s = 0; s < 40; ++s) {
        AddMessagesRequest req = conversation("big", "s" + std::to_string(s), 1690000000000 + s * 1000);
        for (int k = 0; k < 10; ++k) {
            req.messages.push_back({"user",
                                    "the beagle walked to the harbour with my sister and an architect friend number " +
                                        std::to_string(s * 10 + k),
                                    std::nullopt});
        }
        ASSERT_TRUE(mm->add_messages(req).is_ok());
    }
    const std::int64_t before = mm->stats().search_helper_handoffs;
    AddMessagesRequest held = conversation("other", "bulk", 1690000000000);
    held.messages.push_back({"user", "HOLD this turn until the searches are done", std::nullopt});
    held.background = true;
    embedder->arm();
    std::promise<Status> added;
    std::thread adder([&] {
        auto r = mm->add_messages(held);
        added.set_value(r.status());
    });
    embedder->wait_until_held();
    for (int i = 0; i < 30; ++i) {
        EXPECT_FALSE(find(*mm, "big", "beagle harbour sister architect", Granularity::kTurn).empty());
    }
    EXPECT_EQ(mm->stats().search_helper_handoffs, before);
    embedder->release();
    adder.join();
    Status st = added.get_future().get();
    EXPECT_TRUE(st.is_ok()) << st.to_string();
    EXPECT_EQ(find(*mm, "other", "HOLD searches", Granularity::kTurn).size(), 4u);  // the held add's turns, stored
    EXPECT_EQ(mm->stats().background_adds, 1);
}

}  // namespace
}  // namespace kasten::memory
