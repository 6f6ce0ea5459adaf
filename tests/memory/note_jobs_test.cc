// MemoryManager's note jobs: queueing, batching per session, running, deduplication, knowledge updates, retries,
// crash recovery, and notes as retrieval keys. The builder and decider here are scripted doubles, so these tests
// pin the manager's mechanics; the real builders and deciders have their own tests.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <thread>

#include <gtest/gtest.h>

#include "llm/hashing_embedder.h"
#include "memory/memory_manager.h"

namespace kasten::memory {
namespace {

namespace fs = std::filesystem;

constexpr TimeMs kDay = 86'400'000;

// One draft per user turn, its content the turn's text; keywords = words longer than 4 letters.
class EchoBuilder final : public NoteBuilder {
  public:
    std::string id() const override { return "echo"; }
    Result<std::vector<NoteDraft>> build(const NoteBatch& batch, const TermStatistics& stats) override {
        calls++;
        last_documents = stats.documents();
        if (fail_next > 0) {
            fail_next--;
            return Status::internal("model unavailable");
        }
        if (on_build) on_build();
        std::vector<NoteDraft> out;
        for (const auto& t : batch.turns) {
            if (t.role != "user") continue;
            NoteDraft d;
            d.content = t.content;
            d.source_turn_ids = {t.id};
            d.context = "session " + batch.session_id;
            out.push_back(d);
        }
        return out;
    }
    int calls = 0;
    int fail_next = 0;
    std::uint64_t last_documents = 0;
    std::function<void()> on_build;
};

// Links every neighbour whose content shares `subject_word` with the new note as "updates", others as "related"
// with a tag rewrite.
class SubjectDecider final : public LinkDecider {
  public:
    std::string id() const override { return "subject"; }
    Result<LinkPlan> decide(const store::NoteRecord& note, const std::vector<NeighbourNote>& neighbours) override {
        LinkPlan plan;
        for (const auto& nb : neighbours) {
            const bool both = note.content.find(subject_word) != std::string::npos &&
                              nb.note.content.find(subject_word) != std::string::npos;
            if (both) {
                plan.links.push_back({nb.note.id, "updates", 1.0, "same subject: " + subject_word});
            } else if (nb.cosine > 0.2) {
                plan.links.push_back({nb.note.id, "related", nb.cosine, "similar"});
                plan.rewrites.push_back({nb.note.id, std::vector<std::string>{"linked"}, std::nullopt, "shares words"});
            }
        }
        plan.links.push_back({"n_not_a_neighbour", "related", 1.0, "must be dropped"});
        return plan;
    }
    std::string subject_word = "live";
};

class NoteJobsTest : public ::testing::Test {
  protected:
    std::unique_ptr<MemoryManager> open(const std::string& dir = "", bool background = false) {
        MemoryOptions o;
        o.embedder = std::make_shared<llm::HashingEmbedder>(128);
        o.clock = &clock_;
        o.in_memory = dir.empty();
        o.data_dir = dir;
        o.note_builder = builder_;
        o.link_decider = decider_;
        o.background_jobs = background;
        auto r = MemoryManager::open(o);
        EXPECT_TRUE(r.is_ok()) << r.status().to_string();
        return r.is_ok() ? std::move(r).value() : nullptr;
    }

    static AddMessagesResult say(MemoryManager& mm, const std::string& session, const std::string& text, TimeMs at) {
        AddMessagesRequest req;
        req.cube_id = "u";
        req.session_id = session;
        req.time = at;
        req.messages = {{"user", text, std::nullopt}, {"assistant", "Noted, thanks for telling me.", std::nullopt}};
        auto r = mm.add_messages(req);
        EXPECT_TRUE(r.is_ok()) << r.status().to_string();
        return r.is_ok() ? *r : AddMessagesResult{};
    }

    static std::vector<SearchHit> search(MemoryManager& mm, const std::string& q, Granularity g,
                                         std::optional<TimeMs> as_of = std::nullopt, bool note_keys = true,
                                         Retriever retriever = Retriever::kLexical) {
        SearchRequest req;
        req.retriever = retriever;
        req.cube_id = "u";
        req.query = q;
        req.granularity = g;
        req.as_of = as_of;
        req.note_keys = note_keys;
        req.lend_context = false;  // notes as keys alone, without context lent by neighbouring turns
        auto r = mm.search(req);
        EXPECT_TRUE(r.is_ok()) << r.status().to_string();
        return r.is_ok() ? *r : std::vector<SearchHit>{};
    }

    FakeClock clock_{1'700'000'000'000};
    std::shared_ptr<EchoBuilder> builder_ = std::make_shared<EchoBuilder>();
    std::shared_ptr<SubjectDecider> decider_ = std::make_shared<SubjectDecider>();
};

TEST_F(NoteJobsTest, AddQueuesAJobAndNotesAppearWhenItRuns) {
    auto mm = open();
    const TimeMs t0 = clock_.now_ms() - 3 * kDay;
    auto added = say(*mm, "s1", "I adopted a beagle named Biscuit", t0);
    ASSERT_FALSE(added.job_id.empty());
    auto job = mm->get_job(added.job_id);
    ASSERT_TRUE(job.is_ok());
    EXPECT_EQ(job->state, store::JobState::kQueued);
    EXPECT_EQ(job->cube_id, "u");
    // Raw turns are readable at once; notes only after the job.
    EXPECT_EQ(search(*mm, "beagle", Granularity::kTurn).size(), 1u);
    EXPECT_TRUE(mm->list_notes("u", std::nullopt, 10, 0)->empty());

    auto ran = mm->run_jobs();
    ASSERT_TRUE(ran.is_ok()) << ran.status().to_string();
    EXPECT_EQ(*ran, 1);
    EXPECT_GE(builder_->last_documents, 2u) << "term statistics see the batch's own turns";
    job = mm->get_job(added.job_id);
    EXPECT_EQ(job->state, store::JobState::kDone);
    EXPECT_EQ(job->attempts, 1);
    EXPECT_NE(job->result_json.find("\"notes\":1"), std::string::npos) << job->result_json;
    auto notes = mm->list_notes("u", std::nullopt, 10, 0).value();
    ASSERT_EQ(notes.size(), 1u);
    EXPECT_EQ(notes[0].content, "I adopted a beagle named Biscuit");
    EXPECT_EQ(notes[0].source_turn_ids, std::vector<std::string>{added.turn_ids[0]});
    EXPECT_EQ(notes[0].valid_from, t0) << "world time comes from the conversation, not the clock";
    EXPECT_EQ(notes[0].context, "session s1");
    auto history = mm->note_history("u", notes[0].id).value();
    ASSERT_EQ(history.size(), 1u);
    EXPECT_EQ(history[0].actor, "scheduler");
    auto hits = search(*mm, "beagle Biscuit", Granularity::kNote);
    ASSERT_EQ(hits.size(), 1u);
    EXPECT_EQ(mm->run_jobs().value(), 0) << "a done job never runs again";
}

TEST_F(NoteJobsTest, AddsToASessionJoinItsQueuedJob) {
    auto mm = open();
    auto a = say(*mm, "s1", "I play the cello", clock_.now_ms());
    auto b = say(*mm, "s1", "I practise every morning", clock_.now_ms());
    auto c = say(*mm, "s2", "I live near the harbour", clock_.now_ms());
    EXPECT_EQ(a.job_id, b.job_id);
    EXPECT_NE(a.job_id, c.job_id);
    EXPECT_EQ(mm->run_jobs().value(), 2);
    EXPECT_EQ(builder_->calls, 2);
    EXPECT_EQ(mm->stats().note_jobs_done, 2);
    EXPECT_EQ(mm->stats().notes_built, 3);
    EXPECT_EQ(mm->list_notes("u", std::nullopt, 10, 0)->size(), 3u);
    // Once its job ran, a session gets a new job.
    auto d = say(*mm, "s1", "I bought a new bow", clock_.now_ms());
    EXPECT_NE(d.job_id, a.job_id);
    EXPECT_EQ(mm->list_jobs("u", 10, 0)->size(), 3u);
}

TEST_F(NoteJobsTest, ExactDuplicatesAreNotStoredTwice) {
    auto mm = open();
    say(*mm, "s1", "My favourite colour is green", clock_.now_ms());
    say(*mm, "s2", "my  favourite colour is GREEN", clock_.now_ms());
    ASSERT_EQ(mm->run_jobs().value(), 2);
    EXPECT_EQ(mm->list_notes("u", std::nullopt, 10, 0)->size(), 1u);
    auto jobs = mm->list_jobs("u", 10, 0).value();
    ASSERT_EQ(jobs.size(), 2u);
    EXPECT_NE(jobs[0].result_json.find("\"exact_duplicates\":1"), std::string::npos) << jobs[0].result_json;
}

TEST_F(NoteJobsTest, AnUpdateClosesTheOlderNoteAndAsOfSeesIt) {
    auto mm = open();
    const TimeMs boston_at = clock_.now_ms() - 60 * kDay;
    const TimeMs denver_at = clock_.now_ms() - 10 * kDay;
    say(*mm, "s1", "I live in Boston", boston_at);
    ASSERT_EQ(mm->run_jobs().value(), 1);
    say(*mm, "s2", "These days I live in Denver", denver_at);
    ASSERT_EQ(mm->run_jobs().value(), 1);

    auto all = mm->list_notes("u", std::nullopt, 10, 0).value();
    ASSERT_EQ(all.size(), 2u);
    const auto& boston = all[0].content == "I live in Boston" ? all[0] : all[1];
    const auto& denver = all[0].content == "I live in Boston" ? all[1] : all[0];
    EXPECT_EQ(boston.status, store::NoteStatus::kSuperseded);
    EXPECT_EQ(boston.superseded_by, denver.id);
    EXPECT_EQ(boston.valid_to, denver_at);
    EXPECT_EQ(denver.status, store::NoteStatus::kActive);
    auto links = mm->note_links("u", denver.id).value();
    ASSERT_EQ(links.size(), 1u) << "the decision naming an unknown id was dropped";
    EXPECT_EQ(links[0].relation, "updates");
    EXPECT_EQ(links[0].src_note_id, denver.id);
    auto history = mm->note_history("u", boston.id).value();
    ASSERT_EQ(history.size(), 2u);
    EXPECT_NE(history[1].reason.find("superseded"), std::string::npos);

    auto now_hits = search(*mm, "where do I live", Granularity::kNote);
    ASSERT_EQ(now_hits.size(), 1u);
    EXPECT_EQ(now_hits[0].id, denver.id);
    auto then_hits = search(*mm, "where do I live", Granularity::kNote, boston_at + 5 * kDay);
    ASSERT_EQ(then_hits.size(), 1u);
    EXPECT_EQ(then_hits[0].id, boston.id);
}

TEST_F(NoteJobsTest, AnOlderStatementLearnedLateIsTheOneClosed) {
    auto mm = open();
    say(*mm, "s2", "These days I live in Denver", clock_.now_ms() - 10 * kDay);
    ASSERT_EQ(mm->run_jobs().value(), 1);
    say(*mm, "s1", "I live in Boston", clock_.now_ms() - 60 * kDay);  // an old session imported later
    ASSERT_EQ(mm->run_jobs().value(), 1);
    auto active = mm->list_notes("u", store::NoteStatus::kActive, 10, 0).value();
    ASSERT_EQ(active.size(), 1u);
    EXPECT_NE(active[0].content.find("Denver"), std::string::npos);
}

// Which statement wins is decided by when each was said, not by the dates they mention: "I moved there last month"
// said after "I live in Boston" closes the Boston note although its own world time is earlier.
class DatedBuilder final : public NoteBuilder {
  public:
    std::string id() const override { return "dated"; }
    Result<std::vector<NoteDraft>> build(const NoteBatch& batch, const TermStatistics&) override {
        std::vector<NoteDraft> out;
        for (const auto& t : batch.turns) {
            if (t.role != "user") continue;
            NoteDraft d;
            d.content = t.content;
            d.source_turn_ids = {t.id};
            if (t.content.find("last month") != std::string::npos) d.valid_from = t.conv_time - 30 * kDay;
            out.push_back(d);
        }
        return out;
    }
};

TEST_F(NoteJobsTest, TheLaterStatementWinsWhateverDateItMentions) {
    MemoryOptions o;
    o.embedder = std::make_shared<llm::HashingEmbedder>(128);
    o.clock = &clock_;
    o.in_memory = true;
    o.note_builder = std::make_shared<DatedBuilder>();
    o.link_decider = decider_;
    o.background_jobs = false;
    auto mm = MemoryManager::open(o).value();
    const TimeMs now = clock_.now_ms();
    say(*mm, "s1", "I live in Boston", now);
    ASSERT_EQ(mm->run_jobs().value(), 1);
    say(*mm, "s2", "I live in Denver since I moved there last month", now);
    ASSERT_EQ(mm->run_jobs().value(), 1);
    auto active = mm->list_notes("u", store::NoteStatus::kActive, 10, 0).value();
    ASSERT_EQ(active.size(), 1u);
    EXPECT_NE(active[0].content.find("Denver"), std::string::npos);
    auto superseded = mm->list_notes("u", store::NoteStatus::kSuperseded, 10, 0).value();
    ASSERT_EQ(superseded.size(), 1u);
    EXPECT_EQ(superseded[0].superseded_by, active[0].id);
    EXPECT_GE(*superseded[0].valid_to, *superseded[0].valid_from) << "never an inverted validity interval";
}

TEST_F(NoteJobsTest, EvolutionRewritesANeighbourAsANewVersion) {
    decider_->subject_word = "#none#";
    auto mm = open();
    say(*mm, "s1", "I grow tomatoes and basil on my balcony", clock_.now_ms());
    ASSERT_EQ(mm->run_jobs().value(), 1);
    say(*mm, "s2", "My basil and tomatoes need more sun on the balcony", clock_.now_ms());
    ASSERT_EQ(mm->run_jobs().value(), 1);
    auto notes = mm->list_notes("u", std::nullopt, 10, 0).value();
    ASSERT_EQ(notes.size(), 2u);
    EXPECT_EQ(notes[0].tags, std::vector<std::string>{"linked"});
    EXPECT_EQ(notes[0].version, 2);
    auto history = mm->note_history("u", notes[0].id).value();
    ASSERT_EQ(history.size(), 2u);
    EXPECT_EQ(history[1].reason, "evolution: shares words");
    EXPECT_EQ(mm->note_links("u", notes[1].id)->at(0).relation, "related");
}

TEST_F(NoteJobsTest, AFailingBuilderIsRetriedThenTheJobFails) {
    auto mm = open();
    builder_->fail_next = 1;
    auto added = say(*mm, "s1", "I speak Portuguese", clock_.now_ms());
    EXPECT_EQ(mm->run_jobs(1).value(), 1);
    auto job = mm->get_job(added.job_id).value();
    EXPECT_EQ(job.state, store::JobState::kQueued);
    EXPECT_NE(job.error.find("model unavailable"), std::string::npos);
    EXPECT_EQ(mm->run_jobs().value(), 1);
    EXPECT_EQ(mm->get_job(added.job_id)->state, store::JobState::kDone);
    EXPECT_EQ(mm->list_notes("u", std::nullopt, 10, 0)->size(), 1u);

    builder_->fail_next = 100;
    auto again = say(*mm, "s2", "I speak Italian", clock_.now_ms());
    ASSERT_TRUE(mm->run_jobs().is_ok());
    job = mm->get_job(again.job_id).value();
    EXPECT_EQ(job.state, store::JobState::kFailed);
    EXPECT_EQ(job.attempts, 3);
    EXPECT_EQ(mm->get_job("j_missing").status().code(), StatusCode::kNotFound);
}

TEST_F(NoteJobsTest, BackgroundThreadRunsJobs) {
    auto mm = open("", /*background=*/true);
    auto added = say(*mm, "s1", "I collect vinyl records", clock_.now_ms());
    ASSERT_TRUE(mm->wait_for_jobs(20000).is_ok());
    EXPECT_EQ(mm->get_job(added.job_id)->state, store::JobState::kDone);
    EXPECT_EQ(mm->list_notes("u", std::nullopt, 10, 0)->size(), 1u);
}

TEST_F(NoteJobsTest, NotesAreExtraKeysForTheirSessionsAndTurns) {
    auto mm = open();
    auto added = say(*mm, "s1", "We finally got the keys yesterday", clock_.now_ms());
    say(*mm, "s2", "The weather was lovely", clock_.now_ms());
    NoteInput in;
    in.content = "The user bought a house in Porto";
    in.source_turn_ids = {added.turn_ids[0]};
    ASSERT_TRUE(mm->add_note("u", in, "t").is_ok());
    auto without = search(*mm, "house Porto", Granularity::kSession, std::nullopt, /*note_keys=*/false);
    EXPECT_TRUE(without.empty());
    auto with = search(*mm, "house Porto", Granularity::kSession);
    ASSERT_EQ(with.size(), 1u);
    EXPECT_EQ(with[0].id, "s1");
    auto turns = search(*mm, "house Porto", Granularity::kTurn);
    ASSERT_EQ(turns.size(), 1u);
    EXPECT_EQ(turns[0].id, added.turn_ids[0]);
}

TEST_F(NoteJobsTest, NotesExpandSessionKeysButAreAlternativeKeysForTurns) {
    auto mm = open();
    auto plain = say(*mm, "s1", "I love hiking in the Alps", clock_.now_ms());
    auto noted = say(*mm, "s2", "I love hiking in the Alps", clock_.now_ms());
    NoteInput in;
    in.content = "The user enjoys hiking";
    in.source_turn_ids = {noted.turn_ids[0]};
    ASSERT_TRUE(mm->add_note("u", in, "t").is_ok());
    // Sessions: the note's score is added, so the session with the note ranks first.
    auto sessions = search(*mm, "hiking Alps", Granularity::kSession);
    ASSERT_EQ(sessions.size(), 2u);
    EXPECT_EQ(sessions[0].id, "s2");
    EXPECT_GT(sessions[0].rank_score, sessions[1].rank_score);
    // Turns: a turn scores by its best key. The note matches the query less well than the identical turn texts, so
    // both turns keep their own (equal) scores: a turn is not favoured for merely having a note.
    auto turns = search(*mm, "hiking Alps", Granularity::kTurn);
    ASSERT_EQ(turns.size(), 2u);
    EXPECT_DOUBLE_EQ(turns[0].rank_score, turns[1].rank_score);
    auto without = search(*mm, "hiking Alps", Granularity::kTurn, std::nullopt, /*note_keys=*/false);
    ASSERT_EQ(without.size(), 2u);
    EXPECT_DOUBLE_EQ(without[0].rank_score, turns[0].rank_score);
    (void)plain;
}

TEST_F(NoteJobsTest, LinkedNotesJoinNoteResultsAndRecallRefreshesStrength) {
    decider_->subject_word = "#none#";
    auto mm = open();
    say(*mm, "s1", "I grow tomatoes and basil on my balcony", clock_.now_ms());
    ASSERT_EQ(mm->run_jobs().value(), 1);
    say(*mm, "s2", "My basil and tomatoes need more sun", clock_.now_ms());
    ASSERT_EQ(mm->run_jobs().value(), 1);
    NoteInput in;
    in.content = "Unrelated: the user's bicycle is blue";
    ASSERT_TRUE(mm->add_note("u", in, "t").is_ok());

    SearchRequest req;
    req.cube_id = "u";
    req.query = "sun";
    req.granularity = Granularity::kNote;
    req.retriever = Retriever::kLexical;
    req.expand_links = false;
    auto alone = mm->search(req).value();
    ASSERT_EQ(alone.size(), 1u);
    req.expand_links = true;
    auto expanded = mm->search(req).value();
    ASSERT_EQ(expanded.size(), 2u);
    EXPECT_EQ(expanded[0].id, alone[0].id);
    EXPECT_LT(expanded[1].rank_score, expanded[0].rank_score);
    EXPECT_NE(expanded[1].text.find("balcony"), std::string::npos);
    auto recalled = mm->get_note("u", expanded[0].id).value();
    EXPECT_GT(recalled.strength, 1.0);
    EXPECT_EQ(recalled.last_access, clock_.now_ms());
}

// A job whose process is killed while it runs is run again at the next open, once, and its notes are stored once.
TEST_F(NoteJobsTest, AJobInterruptedByKillNineCompletesOnceAfterRestart) {
    const fs::path dir = fs::temp_directory_path() / ("kasten-jobs-kill-" + std::to_string(::getpid()));
    const fs::path marker = dir.string() + ".building";
    fs::remove_all(dir);
    fs::remove(marker);
    std::string job_id;
    {
        auto mm = open(dir.string());
        ASSERT_NE(mm, nullptr);
        job_id = say(*mm, "s1", "I work at the aquarium", clock_.now_ms()).job_id;
        say(*mm, "s1", "I feed the otters every day", clock_.now_ms());
    }
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        // The child claims the job and is killed in the middle of building it.
        builder_->on_build = [&] {
            std::ofstream(marker) << "x";
            for (;;) std::this_thread::sleep_for(std::chrono::seconds(1));
        };
        auto mm = open(dir.string());
        if (mm) (void)mm->run_jobs();
        ::_exit(3);
    }
    for (int i = 0; i < 3000 && !fs::exists(marker); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    ASSERT_TRUE(fs::exists(marker)) << "the child never started the job";
    ASSERT_EQ(::kill(child, SIGKILL), 0);
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    ASSERT_TRUE(WIFSIGNALED(status));

    {
        auto mm = open(dir.string());
        ASSERT_NE(mm, nullptr);
        auto job = mm->get_job(job_id).value();
        EXPECT_EQ(job.state, store::JobState::kQueued) << "a running job of a dead process is queued again";
        EXPECT_EQ(job.attempts, 1);
        EXPECT_TRUE(mm->list_notes("u", std::nullopt, 10, 0)->empty());
        EXPECT_EQ(mm->run_jobs().value(), 1);
        EXPECT_EQ(mm->run_jobs().value(), 0);
        EXPECT_EQ(mm->get_job(job_id)->state, store::JobState::kDone);
        EXPECT_EQ(mm->list_notes("u", std::nullopt, 10, 0)->size(), 2u);
    }
    {
        auto mm = open(dir.string());
        EXPECT_EQ(mm->run_jobs().value(), 0);
        EXPECT_EQ(mm->list_notes("u", std::nullopt, 10, 0)->size(), 2u) << "no duplicate notes after another restart";
        auto hits = search(*mm, "otters", Granularity::kNote);
        ASSERT_FALSE(hits.empty()) << "the notes are indexed after the restart";
        EXPECT_NE(hits[0].text.find("otters"), std::string::npos);
    }
    fs::remove_all(dir);
    fs::remove(marker);
}

}  // namespace
}  // namespace kasten::memory
