// Agentic notes end to end: the real note builders and link deciders (heuristic; LLM with the embedded stories260K
// model and with a scripted model) run through MemoryManager's jobs on an in-memory store. note_jobs_test.cc pins the
// job mechanics with scripted builder/decider doubles; this file checks what the real components make of real
// conversations once stored, linked, superseded and searched.
#include <algorithm>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/clock.h"
#include "common/timestamp.h"
#include "llm/embedded_language_model.h"
#include "llm/hashing_embedder.h"
#include "llm/json_schema.h"
#include "memory/heuristic_link_decider.h"
#include "memory/heuristic_note_builder.h"
#include "memory/llm_link_decider.h"
#include "memory/llm_note_builder.h"
#include "memory/memory_manager.h"
#include "tests/llm/json_schema_check.h"
#include "tests/llm/stories_fixture.h"
#include "tests/memory/recording_language_model.h"
#include "tests/memory/scripted_language_model.h"
#include "tests/memory/stories_model.h"

namespace kasten::memory {
namespace {

using Json = nlohmann::json;
using testing::RecordingLanguageModel;
using testing::ScriptedLanguageModel;

constexpr char kCube[] = "u";

TimeMs at(const char* text) {
    Result<TimeMs> t = parse_timestamp(text);
    EXPECT_TRUE(t.is_ok()) << text;
    return t.is_ok() ? *t : 0;
}

// A readable dump of the cube's notes and their links, for failure messages.
std::string describe_notes(MemoryManager& mm) {
    std::string out;
    Result<std::vector<store::NoteRecord>> notes = mm.list_notes(kCube, std::nullopt, 1000, 0);
    if (!notes.is_ok()) return notes.status().to_string();
    for (const store::NoteRecord& n : *notes) {
        out += n.id + " [" + store::note_status_name(n.status) + " " + n.kind + " v" + std::to_string(n.version) +
               "] " + n.content + " valid_from=" + (n.valid_from ? format_timestamp(*n.valid_from) : "-") +
               " valid_to=" + (n.valid_to ? format_timestamp(*n.valid_to) : "-") + " superseded_by=" + n.superseded_by +
               "\n";
        Result<std::vector<store::LinkRecord>> links = mm.note_links(kCube, n.id);
        if (!links.is_ok()) continue;
        for (const store::LinkRecord& l : *links) {
            if (l.src_note_id == n.id) out += "  " + l.relation + " -> " + l.dst_note_id + " (" + l.reason + ")\n";
        }
    }
    return out;
}

std::string describe_hits(const std::vector<SearchHit>& hits) {
    std::string out;
    for (const SearchHit& h : hits) out += "  " + std::to_string(h.score) + " " + h.id + " " + h.text + "\n";
    return out;
}

class NotesEndToEndTest : public ::testing::Test {
  protected:
    std::unique_ptr<MemoryManager> open(std::shared_ptr<NoteBuilder> builder, std::shared_ptr<LinkDecider> decider) {
        MemoryOptions o;
        o.in_memory = true;
        o.embedder = std::make_shared<llm::HashingEmbedder>(256);
        o.clock = &clock_;
        o.note_builder = std::move(builder);
        o.link_decider = std::move(decider);
        o.background_jobs = false;
        Result<std::unique_ptr<MemoryManager>> r = MemoryManager::open(std::move(o));
        EXPECT_TRUE(r.is_ok()) << r.status().to_string();
        return r.is_ok() ? std::move(r).value() : nullptr;
    }

    std::unique_ptr<MemoryManager> open_heuristic() {
        return open(std::make_shared<HeuristicNoteBuilder>(), std::make_shared<HeuristicLinkDecider>());
    }

    // Adds a session's messages at conversation time `when` (the system clock is set to it too, as if the
    // conversation happened live).
    static AddMessagesResult add(MemoryManager& mm, FakeClock& clock, const std::string& session, TimeMs when,
                                 const std::vector<std::pair<std::string, std::string>>& messages) {
        clock.set(when);
        AddMessagesRequest req;
        req.cube_id = kCube;
        req.session_id = session;
        req.time = when;
        for (const auto& [role, content] : messages) req.messages.push_back({role, content, std::nullopt});
        Result<AddMessagesResult> r = mm.add_messages(req);
        EXPECT_TRUE(r.is_ok()) << r.status().to_string();
        return r.is_ok() ? *r : AddMessagesResult{};
    }

    static std::vector<SearchHit> search(MemoryManager& mm, const std::string& query, Granularity granularity,
                                         std::optional<TimeMs> as_of = std::nullopt, bool note_keys = true) {
        SearchRequest req;
        req.cube_id = kCube;
        req.query = query;
        req.granularity = granularity;
        req.as_of = as_of;
        req.note_keys = note_keys;
        Result<std::vector<SearchHit>> r = mm.search(req);
        EXPECT_TRUE(r.is_ok()) << r.status().to_string();
        return r.is_ok() ? *r : std::vector<SearchHit>{};
    }

    static std::vector<store::NoteRecord> notes(MemoryManager& mm) {
        Result<std::vector<store::NoteRecord>> r = mm.list_notes(kCube, std::nullopt, 1000, 0);
        EXPECT_TRUE(r.is_ok()) << r.status().to_string();
        return r.is_ok() ? *r : std::vector<store::NoteRecord>{};
    }

    // The single note whose content is `content`; fails the test (and returns an empty record) otherwise.
    static store::NoteRecord note_with_content(MemoryManager& mm, const std::string& content) {
        std::vector<store::NoteRecord> found;
        for (const store::NoteRecord& n : notes(mm)) {
            if (n.content == content) found.push_back(n);
        }
        EXPECT_EQ(found.size(), 1u) << "notes with content \"" << content << "\":\n" << describe_notes(mm);
        return found.size() == 1 ? found[0] : store::NoteRecord{};
    }

    static Json job_result(MemoryManager& mm, const std::string& job_id) {
        Result<store::JobRecord> job = mm.get_job(job_id);
        EXPECT_TRUE(job.is_ok()) << job.status().to_string();
        if (!job.is_ok()) return Json::object();
        EXPECT_EQ(job->state, store::JobState::kDone) << job->error;
        return Json::parse(job->result_json);
    }

    static int run_all(MemoryManager& mm) {
        Result<int> ran = mm.run_jobs();
        EXPECT_TRUE(ran.is_ok()) << ran.status().to_string();
        return ran.is_ok() ? *ran : -1;
    }

    FakeClock clock_{at("2023-01-01T00:00:00Z")};
};

// ----- Knowledge update with the heuristic builder and decider -----

class ResidenceUpdateTest : public NotesEndToEndTest {
  protected:
    void SetUp() override {
        mm_ = open_heuristic();
        ASSERT_NE(mm_, nullptr);
        boston_ = add(*mm_, clock_, "s1", at("2023-01-10T10:00:00Z"),
                      {{"user", "I live in Boston."}, {"assistant", "Thanks for letting me know!"}});
        ASSERT_EQ(run_all(*mm_), 1);
        cello_ = add(*mm_, clock_, "s2", at("2023-02-05T18:30:00Z"),
                     {{"user", "I also started learning the cello."}, {"assistant", "That sounds like fun."}});
        ASSERT_EQ(run_all(*mm_), 1);
        denver_ = add(*mm_, clock_, "s3", at("2023-03-01T09:00:00Z"),
                      {{"user", "I moved to Denver last month."}, {"assistant", "Congratulations on the move!"}});
        clock_.set(at("2023-03-01T09:05:00Z"));  // the job runs a few minutes after the add
        ASSERT_EQ(run_all(*mm_), 1);
        ASSERT_EQ(notes(*mm_).size(), 3u) << describe_notes(*mm_);
        boston_note_ = note_with_content(*mm_, "I live in Boston.");
        cello_note_ = note_with_content(*mm_, "I also started learning the cello.");
        denver_note_ = note_with_content(*mm_, "I moved to Denver last month (2023-02).");
        ASSERT_FALSE(boston_note_.id.empty());
        ASSERT_FALSE(cello_note_.id.empty());
        ASSERT_FALSE(denver_note_.id.empty());
    }

    std::unique_ptr<MemoryManager> mm_;
    AddMessagesResult boston_, cello_, denver_;
    store::NoteRecord boston_note_, cello_note_, denver_note_;
};

TEST_F(ResidenceUpdateTest, EachSessionYieldsOneNoteFromTheUserTurn) {
    Json r1 = job_result(*mm_, boston_.job_id);
    Json r3 = job_result(*mm_, denver_.job_id);
    EXPECT_EQ(r1.at("builder"), "heuristic-v1");
    EXPECT_EQ(r1.at("notes"), 1) << r1.dump();
    EXPECT_EQ(r1.at("superseded"), 0) << r1.dump();
    EXPECT_EQ(r3.at("notes"), 1) << r3.dump();
    EXPECT_EQ(r3.at("links"), 1) << r3.dump();
    EXPECT_EQ(r3.at("superseded"), 1) << r3.dump();

    EXPECT_EQ(boston_note_.source_turn_ids, std::vector<std::string>{boston_.turn_ids[0]});
    EXPECT_EQ(denver_note_.source_turn_ids, std::vector<std::string>{denver_.turn_ids[0]});
    EXPECT_EQ(cello_note_.source_turn_ids, std::vector<std::string>{cello_.turn_ids[0]});
    EXPECT_EQ(boston_note_.valid_from, at("2023-01-10T10:00:00Z")) << "no date named: the conversation time";
    EXPECT_EQ(denver_note_.valid_from, at("2023-02-01")) << "\"last month\" resolved against the conversation time";
    EXPECT_EQ(denver_note_.kind, "event");
    EXPECT_EQ(denver_note_.recorded_at, at("2023-03-01T09:05:00Z")) << "system time from the clock";
    EXPECT_NE(std::find(denver_note_.keywords.begin(), denver_note_.keywords.end(), "denver"),
              denver_note_.keywords.end());
    EXPECT_NE(std::find(boston_note_.keywords.begin(), boston_note_.keywords.end(), "boston"),
              boston_note_.keywords.end());
}

TEST_F(ResidenceUpdateTest, TheDenverNoteSupersedesTheBostonNote) {
    EXPECT_EQ(denver_note_.status, store::NoteStatus::kActive);
    EXPECT_FALSE(denver_note_.valid_to.has_value());
    EXPECT_EQ(cello_note_.status, store::NoteStatus::kActive) << "an unrelated note is untouched";
    EXPECT_EQ(cello_note_.version, 1);

    EXPECT_EQ(boston_note_.status, store::NoteStatus::kSuperseded);
    EXPECT_EQ(boston_note_.superseded_by, denver_note_.id);
    EXPECT_EQ(boston_note_.valid_to, at("2023-02-01")) << "closed when the newer statement became true";
    EXPECT_EQ(boston_note_.superseded_at, at("2023-03-01T09:05:00Z")) << "closed when the update was learned";
    EXPECT_EQ(boston_note_.valid_from, at("2023-01-10T10:00:00Z"));
    EXPECT_EQ(boston_note_.content, "I live in Boston.") << "an update never rewrites the old statement";
    EXPECT_EQ(boston_note_.version, 2);

    Result<std::vector<store::NoteVersionRecord>> history = mm_->note_history(kCube, boston_note_.id);
    ASSERT_TRUE(history.is_ok()) << history.status().to_string();
    ASSERT_EQ(history->size(), 2u);
    EXPECT_EQ((*history)[0].version, 1);
    EXPECT_EQ((*history)[0].reason, "create");
    EXPECT_EQ((*history)[0].actor, "scheduler");
    EXPECT_EQ((*history)[0].content, "I live in Boston.");
    EXPECT_EQ((*history)[1].version, 2);
    EXPECT_EQ((*history)[1].reason, "superseded: updates by " + denver_note_.id + " (residence: boston -> denver)");
    EXPECT_EQ((*history)[1].actor, "scheduler");

    Result<std::vector<store::LinkRecord>> links = mm_->note_links(kCube, denver_note_.id);
    ASSERT_TRUE(links.is_ok()) << links.status().to_string();
    ASSERT_EQ(links->size(), 1u) << describe_notes(*mm_);
    const store::LinkRecord& link = (*links)[0];
    EXPECT_EQ(link.src_note_id, denver_note_.id);
    EXPECT_EQ(link.dst_note_id, boston_note_.id);
    EXPECT_EQ(link.relation, "updates");
    EXPECT_EQ(link.weight, 1.0);
    EXPECT_EQ(link.reason, "residence: boston -> denver");
    // The same link, seen from the old note.
    Result<std::vector<store::LinkRecord>> back = mm_->note_links(kCube, boston_note_.id);
    ASSERT_TRUE(back.is_ok());
    ASSERT_EQ(back->size(), 1u);
    EXPECT_EQ((*back)[0].src_note_id, denver_note_.id);
    EXPECT_EQ((*back)[0].relation, "updates");
    // Nothing links the cello note: it is about something else.
    EXPECT_TRUE(mm_->note_links(kCube, cello_note_.id)->empty());

    Result<std::vector<store::NoteRecord>> active = mm_->list_notes(kCube, store::NoteStatus::kActive, 100, 0);
    ASSERT_TRUE(active.is_ok());
    for (const store::NoteRecord& n : *active) {
        EXPECT_EQ(n.content.find("Boston"), std::string::npos) << "an active Boston note: " << n.content;
    }
}

TEST_F(ResidenceUpdateTest, CurrentNoteSearchFindsDenverAndNoBostonNote) {
    // "moved to Denver" shares no word with "live": only the superseded Boston note matches the query, and a
    // current search answers with the note that replaced it, first.
    for (const char* query : {"where does the user live", "where do I live"}) {
        SCOPED_TRACE(query);
        std::vector<SearchHit> hits = search(*mm_, query, Granularity::kNote);
        const auto denver =
            std::find_if(hits.begin(), hits.end(), [&](const SearchHit& h) { return h.id == denver_note_.id; });
        ASSERT_NE(denver, hits.end()) << describe_hits(hits);
        EXPECT_EQ(denver, hits.begin()) << "the current residence ranks first\n" << describe_hits(hits);
        for (auto it = hits.begin(); it != hits.end(); ++it) {
            EXPECT_NE(it->id, boston_note_.id) << "a superseded note in a current search\n" << describe_hits(hits);
            EXPECT_EQ(it->text.find("Boston"), std::string::npos) << describe_hits(hits);
        }
        EXPECT_EQ(denver->text, "I moved to Denver last month (2023-02).");
        EXPECT_EQ(denver->turn_ids, std::vector<std::string>{denver_.turn_ids[0]});
    }
}

TEST_F(ResidenceUpdateTest, AsOfSearchSeesTheFactsAsTheyStood) {
    // Mid-January: Boston only (Denver and the cello came later).
    std::vector<SearchHit> january = search(*mm_, "where do I live", Granularity::kNote, at("2023-01-20T00:00:00Z"));
    ASSERT_EQ(january.size(), 1u) << describe_hits(january);
    EXPECT_EQ(january[0].id, boston_note_.id);
    EXPECT_EQ(january[0].text, "I live in Boston.");
    // Last moment before the move (the move resolves to the start of February).
    std::vector<SearchHit> eve = search(*mm_, "where do I live", Granularity::kNote, at("2023-01-31T23:59:59Z"));
    ASSERT_FALSE(eve.empty());
    EXPECT_EQ(eve[0].id, boston_note_.id) << describe_hits(eve);
    for (const SearchHit& h : eve) EXPECT_NE(h.id, denver_note_.id) << describe_hits(eve);
    // Mid-February: Denver, not Boston.
    std::vector<SearchHit> february = search(*mm_, "where do I live", Granularity::kNote, at("2023-02-15T00:00:00Z"));
    bool saw_denver = false;
    for (const SearchHit& h : february) {
        EXPECT_NE(h.id, boston_note_.id) << describe_hits(february);
        saw_denver = saw_denver || h.id == denver_note_.id;
    }
    EXPECT_TRUE(saw_denver) << describe_hits(february);
}

TEST_F(ResidenceUpdateTest, TurnAndSessionSearchAreCreditedByNotes) {
    std::vector<SearchHit> with = search(*mm_, "Denver", Granularity::kTurn);
    ASSERT_FALSE(with.empty());
    EXPECT_EQ(with[0].id, denver_.turn_ids[0]) << describe_hits(with);
    EXPECT_EQ(with[0].session_id, "s3");
    EXPECT_EQ(with[0].role, "user");
    EXPECT_EQ(with[0].text, "I moved to Denver last month.");
    std::vector<SearchHit> without = search(*mm_, "Denver", Granularity::kTurn, std::nullopt, /*note_keys=*/false);
    ASSERT_FALSE(without.empty());
    EXPECT_EQ(without[0].id, denver_.turn_ids[0]);
    // A turn scores by its best key (its text or its note): never lower with notes.
    EXPECT_GE(with[0].rank_score, without[0].rank_score);

    std::vector<SearchHit> sessions = search(*mm_, "Denver", Granularity::kSession);
    ASSERT_FALSE(sessions.empty());
    EXPECT_EQ(sessions[0].id, "s3") << describe_hits(sessions);
    std::vector<SearchHit> bare = search(*mm_, "Denver", Granularity::kSession, std::nullopt, /*note_keys=*/false);
    ASSERT_FALSE(bare.empty());
    EXPECT_EQ(bare[0].id, "s3");
    EXPECT_GT(sessions[0].rank_score, bare[0].rank_score) << "the Denver note expands its session's key";
}

// ----- Heuristic note construction through the manager -----

const std::vector<std::pair<std::string, std::string>>& anna_conversation() {
    static const std::vector<std::pair<std::string, std::string>> conversation = {
        {"user", "My sister Anna just got a job at Siemens in Munich."},
        {"assistant", "Good for her! How long had she been looking?"},
        {"user", "Oh, I visited her two weeks ago and we hiked near Garmisch."},
        {"user", "Next Friday I'm flying to Lisbon for a conference."},
        {"assistant", "Have a safe flight!"},
        {"user", "Thanks!"},
        {"user", "ok"},
    };
    return conversation;
}

TEST_F(NotesEndToEndTest, HeuristicConstructionResolvesDatesAndSkipsSmallTalkAndDuplicates) {
    auto mm = open_heuristic();
    ASSERT_NE(mm, nullptr);
    // Saturday 2023-05-20.
    const TimeMs when = at("2023-05-20T14:00:00Z");
    AddMessagesResult first = add(*mm, clock_, "s1", when, anna_conversation());
    ASSERT_EQ(first.turn_ids.size(), 7u);
    ASSERT_EQ(run_all(*mm), 1);

    ASSERT_EQ(notes(*mm).size(), 3u) << describe_notes(*mm);
    const store::NoteRecord anna = note_with_content(*mm, "My sister Anna just got a job at Siemens in Munich.");
    const store::NoteRecord visit =
        note_with_content(*mm, "I visited her two weeks ago (2023-05-06) and we hiked near Garmisch.");
    const store::NoteRecord trip =
        note_with_content(*mm, "Next Friday (2023-05-26) I'm flying to Lisbon for a conference.");
    ASSERT_FALSE(anna.id.empty());
    ASSERT_FALSE(visit.id.empty());
    ASSERT_FALSE(trip.id.empty());

    auto has_keywords = [](const store::NoteRecord& n, const std::vector<std::string>& words) {
        for (const std::string& w : words) {
            EXPECT_NE(std::find(n.keywords.begin(), n.keywords.end(), w), n.keywords.end())
                << w << " not among the keywords of: " << n.content;
        }
        EXPECT_GE(n.keywords.size(), 1u);
        EXPECT_LE(n.keywords.size(), 8u);
        for (const std::string& k : n.keywords) {
            EXPECT_TRUE(std::none_of(k.begin(), k.end(), [](char c) { return c >= 'A' && c <= 'Z'; })) << k;
        }
    };
    has_keywords(anna, {"anna", "siemens", "munich"});
    has_keywords(visit, {"garmisch"});
    has_keywords(trip, {"lisbon"});

    EXPECT_EQ(anna.source_turn_ids, std::vector<std::string>{first.turn_ids[0]});
    EXPECT_EQ(visit.source_turn_ids, std::vector<std::string>{first.turn_ids[2]});
    EXPECT_EQ(trip.source_turn_ids, std::vector<std::string>{first.turn_ids[3]});
    EXPECT_EQ(anna.valid_from, when) << "no date named: the conversation time";
    EXPECT_EQ(visit.valid_from, at("2023-05-06")) << "two weeks before 2023-05-20";
    EXPECT_EQ(trip.valid_from, at("2023-05-26")) << "the Friday after 2023-05-20";
    EXPECT_EQ(visit.kind, "event");
    EXPECT_EQ(trip.kind, "plan");
    for (const store::NoteRecord& n : {anna, visit, trip}) {
        EXPECT_EQ(n.status, store::NoteStatus::kActive);
        EXPECT_EQ(n.version, 1);
        EXPECT_FALSE(n.context.empty());
    }
    const Json built = job_result(*mm, first.job_id);
    EXPECT_EQ(built.at("drafts"), 3) << "no draft from \"Thanks!\", \"ok\" or the assistant's pleasantries";
    EXPECT_EQ(built.at("notes"), 3);

    // A session of small talk alone makes no note.
    AddMessagesResult chat = add(*mm, clock_, "s2", at("2023-05-21T08:00:00Z"),
                                 {{"user", "Hi there!"},
                                  {"assistant", "Hello! How can I help?"},
                                  {"user", "ok"},
                                  {"user", "Thanks!"},
                                  {"assistant", "You're welcome!"}});
    ASSERT_EQ(run_all(*mm), 1);
    const Json small_talk = job_result(*mm, chat.job_id);
    EXPECT_EQ(small_talk.at("drafts"), 0) << small_talk.dump();
    EXPECT_EQ(small_talk.at("notes"), 0);

    // The same conversation again (re-sent by a client) makes no duplicate note.
    AddMessagesResult again = add(*mm, clock_, "s3", when, anna_conversation());
    ASSERT_EQ(run_all(*mm), 1);
    const Json repeated = job_result(*mm, again.job_id);
    EXPECT_EQ(repeated.at("drafts"), 3) << repeated.dump();
    EXPECT_EQ(repeated.at("exact_duplicates"), 3) << repeated.dump();
    EXPECT_EQ(repeated.at("notes"), 0) << repeated.dump();
    EXPECT_EQ(notes(*mm).size(), 3u) << describe_notes(*mm);

    // The notes are searchable by what they are about.
    std::vector<SearchHit> hits = search(*mm, "Where does Anna work?", Granularity::kNote);
    ASSERT_FALSE(hits.empty());
    EXPECT_EQ(hits[0].id, anna.id) << describe_hits(hits);
}

// ----- LLM path: the embedded stories260K model with constrained decoding -----

std::shared_ptr<llm::EmbeddedLanguageModel> open_stories() {
    return testing::open_stories_model();
}

// Checks every stored note and link of the cube against the contract, whatever the model said. Returns the number
// of links (each counted once, from its source).
int expect_notes_meet_the_contract(MemoryManager& mm, const std::set<std::string>& batch_turns) {
    const std::set<std::string> kinds = {"fact", "preference", "event", "plan", "profile"};
    const std::set<std::string> relations = {"related", "supports", "updates", "contradicts", "follows"};
    Result<std::vector<store::NoteRecord>> stored = mm.list_notes(kCube, std::nullopt, 1000, 0);
    EXPECT_TRUE(stored.is_ok());
    if (!stored.is_ok()) return 0;
    std::set<std::string> note_ids;
    for (const store::NoteRecord& n : *stored) note_ids.insert(n.id);
    int links_out = 0;
    for (const store::NoteRecord& n : *stored) {
        SCOPED_TRACE(n.id + ": " + n.content);
        EXPECT_FALSE(n.content.empty());
        EXPECT_TRUE(kinds.count(n.kind)) << n.kind;
        EXPECT_LE(n.keywords.size(), 8u);
        EXPECT_LE(n.tags.size(), 5u);
        EXPECT_GE(n.version, 1);
        EXPECT_TRUE(n.valid_from.has_value());
        EXPECT_FALSE(n.source_turn_ids.empty());
        std::set<std::string> sessions_of_sources;
        for (const std::string& turn_id : n.source_turn_ids) {
            EXPECT_TRUE(batch_turns.count(turn_id)) << turn_id;
            Result<store::TurnRecord> turn = mm.get_turn(kCube, turn_id);
            EXPECT_TRUE(turn.is_ok()) << turn_id << ": " << turn.status().to_string();
            if (turn.is_ok()) sessions_of_sources.insert(turn->session_id);
        }
        EXPECT_LE(sessions_of_sources.size(), 1u) << "a note's sources come from one batch (session)";
        Result<std::vector<store::NoteVersionRecord>> history = mm.note_history(kCube, n.id);
        EXPECT_TRUE(history.is_ok());
        if (history.is_ok()) {
            EXPECT_FALSE(history->empty());
            if (!history->empty()) {
                EXPECT_EQ(history->front().reason, "create");
                EXPECT_EQ(history->front().actor, "scheduler");
                EXPECT_EQ(history->back().version, n.version);
            }
        }
        if (n.status == store::NoteStatus::kSuperseded) {
            EXPECT_TRUE(note_ids.count(n.superseded_by)) << n.superseded_by;
            EXPECT_TRUE(n.valid_to.has_value());
        } else {
            EXPECT_EQ(n.status, store::NoteStatus::kActive);
        }
        Result<std::vector<store::LinkRecord>> links = mm.note_links(kCube, n.id);
        EXPECT_TRUE(links.is_ok());
        if (!links.is_ok()) continue;
        for (const store::LinkRecord& l : *links) {
            EXPECT_TRUE(relations.count(l.relation)) << l.relation;
            EXPECT_TRUE(l.src_note_id == n.id || l.dst_note_id == n.id);
            EXPECT_NE(l.src_note_id, l.dst_note_id);
            EXPECT_TRUE(note_ids.count(l.src_note_id)) << l.src_note_id;
            EXPECT_TRUE(note_ids.count(l.dst_note_id)) << l.dst_note_id;
            EXPECT_GT(l.weight, 0.0);
            EXPECT_LE(l.weight, 1.0);
            if (l.src_note_id == n.id) links_out++;
        }
    }
    return links_out;
}

TEST_F(NotesEndToEndTest, StoriesModelNotesAndLinksMeetTheContract) {
    std::shared_ptr<llm::EmbeddedLanguageModel> stories = open_stories();
    ASSERT_NE(stories, nullptr);
    // Greedy decoding gives an empty note list for these turns; sampled settings give notes (and neighbours to link).
    // Store ids are time-based, and they appear in the prompts, so the replies differ between runs: ten settings
    // make a run without any decider call (observed about once in 20 runs with five) practically impossible.
    const std::pair<std::uint64_t, double> settings[] = {{0, 0.0}, {1, 0.8}, {2, 1.0}, {3, 1.3}, {4, 1.6},
                                                         {5, 0.8}, {6, 1.0}, {7, 1.3}, {8, 1.6}, {9, 1.2}};
    std::size_t total_notes = 0;
    std::size_t total_decider_calls = 0;
    int total_links = 0;
    for (const auto& [seed, temperature] : settings) {
        SCOPED_TRACE("seed " + std::to_string(seed) + ", temperature " + std::to_string(temperature));
        // One model for both: EmbeddedLanguageModel serialises its calls, and jobs run one at a time anyway.
        auto recording = std::make_shared<RecordingLanguageModel>(stories);
        // Budgets for the 512-token context: prompt and reply must both fit.
        LlmNoteBuilderOptions builder_options;
        builder_options.prompt_char_budget = 400;
        builder_options.max_tokens = 160;
        builder_options.seed = seed;
        builder_options.temperature = temperature;
        LlmLinkDeciderOptions decider_options;
        decider_options.prompt_char_budget = 400;
        decider_options.max_tokens = 150;
        decider_options.seed = seed;
        decider_options.temperature = temperature;
        auto mm = open(std::make_shared<LlmNoteBuilder>(recording, builder_options),
                       std::make_shared<LlmLinkDecider>(recording, decider_options));
        ASSERT_NE(mm, nullptr);

        std::vector<AddMessagesResult> sessions;
        sessions.push_back(add(*mm, clock_, "s1", at("2023-05-20T14:00:00Z"),
                               {{"user", "I got a puppy yesterday."}, {"assistant", "Puppies need short walks."}}));
        sessions.push_back(add(*mm, clock_, "s2", at("2023-05-27T10:00:00Z"),
                               {{"user", "The puppy is called Max."}, {"assistant", "Max is a fine name."}}));
        sessions.push_back(add(*mm, clock_, "s3", at("2023-06-03T10:00:00Z"),
                               {{"user", "I fly to Lisbon next week."}, {"assistant", "Lisbon is sunny."}}));
        EXPECT_EQ(run_all(*mm), 3);
        std::set<std::string> all_turns;
        for (const AddMessagesResult& s : sessions) {
            ASSERT_FALSE(s.job_id.empty());
            Result<store::JobRecord> job = mm->get_job(s.job_id);
            ASSERT_TRUE(job.is_ok());
            EXPECT_EQ(job->state, store::JobState::kDone) << job->error;
            EXPECT_EQ(job->attempts, 1);
            const Json result = Json::parse(job->result_json);
            EXPECT_EQ(result.at("builder"), "llm:gguf:stories260K-tok512") << job->result_json;
            all_turns.insert(s.turn_ids.begin(), s.turn_ids.end());
        }
        total_notes += notes(*mm).size();
        total_links += expect_notes_meet_the_contract(*mm, all_turns);

        // Constrained decoding: every raw reply is JSON of its schema, and prompt + reply fitted the context.
        for (const RecordingLanguageModel::Record& record : recording->records()) {
            Result<llm::JsonSchema> schema = llm::JsonSchema::parse(record.json_schema);
            ASSERT_TRUE(schema.is_ok()) << record.json_schema;
            EXPECT_EQ(llm::testing::check_json(*schema, record.generation.text), "") << record.generation.text;
            EXPECT_LE(record.generation.prompt_tokens + record.generation.completion_tokens, 512);
            if (record.json_schema.find("\"decisions\"") != std::string::npos) total_decider_calls++;
        }
    }
    // The contract above was exercised on real output: notes were stored and the link decider was asked.
    EXPECT_GE(total_notes, 1u);
    EXPECT_GE(total_decider_calls, 1u);
    EXPECT_GE(total_links, 1);
}

// ----- LLM path with a scripted model: exact replies through the manager -----

// A scripted reply citing `turn_id`.
std::string beagle_reply(const std::string& turn_id) {
    return Json{{"notes",
                 {{{"source_turn_ids", {turn_id}},
                   {"content", "The user adopted a beagle named Biscuit last Tuesday (2023-05-16)."},
                   {"kind", "event"},
                   {"date", "2023-05-16"},
                   {"keywords", {"beagle", "biscuit"}},
                   {"tags", {"pets"}},
                   {"context", "The user talks about a new dog."}}}}}
        .dump();
}

TEST_F(NotesEndToEndTest, ScriptedModelReplyBecomesAStoredNote) {
    auto model = std::make_shared<ScriptedLanguageModel>("scripted-7b");
    auto mm = open(std::make_shared<LlmNoteBuilder>(model), std::make_shared<HeuristicLinkDecider>());
    ASSERT_NE(mm, nullptr);
    AddMessagesResult added =
        add(*mm, clock_, "s1", at("2023-05-20T14:00:00Z"),
            {{"user", "I adopted a beagle named Biscuit last Tuesday!"}, {"assistant", "Congratulations!"}});
    model->reply(beagle_reply(added.turn_ids[0]));
    ASSERT_EQ(run_all(*mm), 1);
    ASSERT_EQ(model->calls().size(), 1u);
    ASSERT_EQ(model->remaining(), 0u);
    // One constrained call, whose schema admits exactly this batch's turn ids.
    const llm::GenerationOptions& options = model->calls()[0].options;
    ASSERT_TRUE(options.json_schema.has_value());
    const Json schema = Json::parse(*options.json_schema);
    EXPECT_EQ(
        schema.at("properties").at("notes").at("items").at("properties").at("source_turn_ids").at("items").at("enum"),
        Json(added.turn_ids));
    EXPECT_NE(model->calls()[0].prompt.find("I adopted a beagle named Biscuit last Tuesday!"), std::string::npos);

    const Json result = job_result(*mm, added.job_id);
    EXPECT_EQ(result.at("builder"), "llm:scripted-7b");
    EXPECT_EQ(result.at("notes"), 1);
    std::vector<store::NoteRecord> stored = notes(*mm);
    ASSERT_EQ(stored.size(), 1u);
    const store::NoteRecord& n = stored[0];
    EXPECT_EQ(n.content, "The user adopted a beagle named Biscuit last Tuesday (2023-05-16).");
    EXPECT_EQ(n.kind, "event");
    EXPECT_EQ(n.keywords, (std::vector<std::string>{"beagle", "biscuit"}));
    EXPECT_EQ(n.tags, std::vector<std::string>{"pets"});
    EXPECT_EQ(n.context, "The user talks about a new dog.");
    EXPECT_EQ(n.source_turn_ids, std::vector<std::string>{added.turn_ids[0]});
    EXPECT_EQ(n.valid_from, at("2023-05-16"));
    EXPECT_FALSE(n.valid_to.has_value());
    EXPECT_EQ(n.status, store::NoteStatus::kActive);
    EXPECT_EQ(n.recorded_at, at("2023-05-20T14:00:00Z"));
    Result<std::vector<store::NoteVersionRecord>> history = mm->note_history(kCube, n.id);
    ASSERT_TRUE(history.is_ok());
    ASSERT_EQ(history->size(), 1u);
    EXPECT_EQ((*history)[0].actor, "scheduler");

    // Stored notes are indexed: found by a word only their keywords/content carry.
    std::vector<SearchHit> hits = search(*mm, "beagle", Granularity::kNote);
    ASSERT_FALSE(hits.empty());
    EXPECT_EQ(hits[0].id, n.id);
    // As of a day before the adoption the note did not hold yet.
    for (const SearchHit& h : search(*mm, "beagle", Granularity::kNote, at("2023-05-15T12:00:00Z"))) {
        EXPECT_NE(h.id, n.id);
    }
}

TEST_F(NotesEndToEndTest, ScriptedModelNotesCitingTurnsOutsideTheBatchAreDropped) {
    auto model = std::make_shared<ScriptedLanguageModel>();
    auto mm = open(std::make_shared<LlmNoteBuilder>(model), std::make_shared<HeuristicLinkDecider>());
    ASSERT_NE(mm, nullptr);
    AddMessagesResult first =
        add(*mm, clock_, "s1", at("2023-05-20T14:00:00Z"),
            {{"user", "I adopted a beagle named Biscuit last Tuesday!"}, {"assistant", "Congratulations!"}});
    model->reply(beagle_reply(first.turn_ids[0]));
    ASSERT_EQ(run_all(*mm), 1);
    ASSERT_EQ(notes(*mm).size(), 1u);

    AddMessagesResult second =
        add(*mm, clock_, "s2", at("2023-06-02T09:00:00Z"),
            {{"user", "I signed up for a pottery class on Thursdays."}, {"assistant", "Pottery is relaxing."}});
    // Three notes: one citing a turn of another session (it exists, but not in this batch), one an id that exists
    // nowhere, one a turn of the batch. Only the last is stored.
    Json reply = {{"notes",
                   {{{"source_turn_ids", {first.turn_ids[0]}},
                     {"content", "The user has a beagle called Biscuit."},
                     {"kind", "fact"},
                     {"date", ""},
                     {"keywords", {"beagle"}},
                     {"tags", {"pets"}},
                     {"context", "Pets."}},
                    {{"source_turn_ids", {"t_00000000000000ff"}},
                     {"content", "The user lives on the moon."},
                     {"kind", "fact"},
                     {"date", ""},
                     {"keywords", {"moon"}},
                     {"tags", {"places"}},
                     {"context", "Invented."}},
                    {{"source_turn_ids", {second.turn_ids[0]}},
                     {"content", "The user takes a pottery class on Thursdays."},
                     {"kind", "plan"},
                     {"date", ""},
                     {"keywords", {"pottery"}},
                     {"tags", {"hobbies"}},
                     {"context", "Hobbies."}}}}};
    model->reply(reply.dump());
    ASSERT_EQ(run_all(*mm), 1);
    const Json result = job_result(*mm, second.job_id);
    EXPECT_EQ(result.at("drafts"), 1) << result.dump();
    EXPECT_EQ(result.at("notes"), 1) << result.dump();

    std::vector<store::NoteRecord> stored = notes(*mm);
    ASSERT_EQ(stored.size(), 2u) << describe_notes(*mm);
    std::set<std::string> contents;
    for (const store::NoteRecord& n : stored) contents.insert(n.content);
    EXPECT_EQ(contents, (std::set<std::string>{"The user adopted a beagle named Biscuit last Tuesday (2023-05-16).",
                                               "The user takes a pottery class on Thursdays."}));
    const store::NoteRecord pottery = note_with_content(*mm, "The user takes a pottery class on Thursdays.");
    EXPECT_EQ(pottery.source_turn_ids, std::vector<std::string>{second.turn_ids[0]});
    EXPECT_EQ(pottery.valid_from, at("2023-06-02T09:00:00Z")) << "no date: its source turn's conversation time";
    EXPECT_EQ(pottery.kind, "plan");
}

TEST_F(NotesEndToEndTest, ScriptedModelErrorsRetryThenFailTheJob) {
    auto model = std::make_shared<ScriptedLanguageModel>();
    auto mm = open(std::make_shared<LlmNoteBuilder>(model), std::make_shared<HeuristicLinkDecider>());
    ASSERT_NE(mm, nullptr);
    AddMessagesResult added = add(*mm, clock_, "s1", at("2023-05-20T14:00:00Z"),
                                  {{"user", "I speak Portuguese and a little Italian."}, {"assistant", "Nice!"}});
    model->fail(Status::internal("backend down (1)"))
        .fail(Status::internal("backend down (2)"))
        .fail(Status::internal("backend down (3)"));

    ASSERT_EQ(mm->run_jobs(1).value(), 1);
    Result<store::JobRecord> job = mm->get_job(added.job_id);
    ASSERT_TRUE(job.is_ok());
    EXPECT_EQ(job->state, store::JobState::kQueued) << "a model error queues the job again";
    EXPECT_EQ(job->attempts, 1);
    EXPECT_NE(job->error.find("backend down (1)"), std::string::npos) << job->error;
    EXPECT_TRUE(notes(*mm).empty());

    ASSERT_EQ(mm->run_jobs(1).value(), 1);
    job = mm->get_job(added.job_id);
    EXPECT_EQ(job->state, store::JobState::kQueued);
    EXPECT_EQ(job->attempts, 2);
    EXPECT_NE(job->error.find("backend down (2)"), std::string::npos) << job->error;

    EXPECT_EQ(run_all(*mm), 1);
    job = mm->get_job(added.job_id);
    EXPECT_EQ(job->state, store::JobState::kFailed);
    EXPECT_EQ(job->attempts, 3);
    EXPECT_NE(job->error.find("backend down (3)"), std::string::npos) << job->error;
    EXPECT_EQ(model->calls().size(), 3u);
    EXPECT_EQ(model->remaining(), 0u);
    EXPECT_EQ(run_all(*mm), 0) << "a failed job is not run again";
    EXPECT_TRUE(notes(*mm).empty());
    // The turns themselves are kept and searchable whatever happened to the notes.
    std::vector<SearchHit> hits = search(*mm, "Portuguese", Granularity::kTurn);
    ASSERT_FALSE(hits.empty());
    EXPECT_EQ(hits[0].id, added.turn_ids[0]);
}

}  // namespace
}  // namespace kasten::memory
