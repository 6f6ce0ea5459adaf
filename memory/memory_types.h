#pragma once

// The public request and result types of kasten's memory (MemoryManager's API), apart from the manager itself so
// that its parts can share them.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "llm/embedder.h"
#include "memory/index_write_faults.h"
#include "memory/link_decider.h"
#include "memory/note_builder.h"
#include "memory/note_weaver.h"
#include "store/records.h"

namespace kasten::memory {

// How hybrid search merges the lexical and vector candidate lists (always their union).
enum class Fusion {
    kMinMax,         // each list's scores min-max normalised to [0, 1], weighted sum (absent = 0)
    kReciprocalRank  // sum of weight / (rrf_k + rank)
};

// Where and how a MemoryManager keeps its data.
struct MemoryOptions {
    // Directory holding kasten.db (SQLite) and lexical/ (Xapian). Created if missing. Ignored when in_memory.
    std::string data_dir;
    // SQLite ":memory:" and an in-memory Xapian database: for evaluation runs and tests. Nothing touches disk.
    bool in_memory = false;
    // Required. Shared so several in-memory managers (one per evaluation question) can reuse one embedder.
    std::shared_ptr<const llm::Embedder> embedder;
    // Required unless null, in which case SystemClock is used. Must outlive the manager.
    const Clock* clock = nullptr;
    // The lexical index is committed after this many indexed units (and on flush()/close). Units indexed but not
    // committed when the process dies are re-indexed from the store at the next open (the store is the truth).
    int lexical_commit_every = 20000;
    // On open, compare the indexes with the store and repair (re-index) what disagrees.
    bool verify_on_open = true;
    // A lexical index write that fails (a full disk) marks the index dirty; it is repaired from the store by a
    // background thread, first after this delay, then with the delay doubled up to `index_repair_max_delay_ms`.
    int index_repair_delay_ms = 500;
    int index_repair_max_delay_ms = 10000;
    // Tests: injected index write failures (null: none).
    std::shared_ptr<IndexWriteFaults> index_write_faults;
    // Read-only SQLite connections beside the one writer (WAL): reads never wait for a write. A search holds one for
    // its whole run (one read transaction), so there are as many as the HTTP server runs requests at once by
    // default, plus two for the note jobs and the rest. 0: 8 per hardware thread + 2, at most 66. In-memory stores
    // have one connection, shared under the writer's lock.
    int read_connections = 0;
    // What searches show of turns, sessions and notes (texts, times, ids) is cached in memory up to this many bytes,
    // least recently used out first (memory/hit_cache.h): under constant writes a store read costs a cold page
    // cache. 0 disables the cache.
    std::size_t hit_cache_bytes = std::size_t{64} << 20;
    // A hybrid search runs its lexical and vector halves at once when the helper thread is free (on machines with
    // more than one core): a lone search's latency drops, its CPU time does not. false: every search on its
    // caller's thread alone.
    bool search_helper = true;
    // Hybrid fusion. Min-max with equal weights keeps the strength of each score (a strong BM25 match is not
    // flattened to its rank); on the LongMemEval development split it beat reciprocal rank at session and turn level
    // (docs/retrieval.md has the measurements).
    Fusion fusion = Fusion::kMinMax;
    double lexical_weight = 1.0;
    double vector_weight = 1.0;
    double rrf_k = 60.0;
    // The lexical half's BM25 parameters (retrieval::LexicalIndex::Bm25Params): k1 >= 0 (term-frequency saturation),
    // b in [0, 1] (document-length normalisation). Xapian's defaults.
    double bm25_k1 = 1.0;
    double bm25_b = 0.5;

    // Note building (agentic notes). With a builder, every add_messages queues a job that distils the new turns
    // into notes (batched per session: adds to a session whose job has not started join it), links and evolves
    // them with `link_decider` (required with a builder) and closes notes they update. Without one, no job is made.
    std::shared_ptr<NoteBuilder> note_builder;
    std::shared_ptr<LinkDecider> link_decider;
    // true: a background thread runs jobs as they come (the server). false: jobs wait for run_jobs() (CLI, eval,
    // tests). Either way jobs are in SQLite: queued or interrupted jobs run after a restart, and never twice.
    bool background_jobs = true;
    // A job that fails (a model error) is retried up to this many attempts in all, then marked failed.
    int job_max_attempts = 3;
    WeaveOptions weave;
    // Notes as extra keys (multi-granularity). Session granularity: the best score of a session's notes, times
    // this weight, is added to the session's (its notes expand its key). Turn granularity: a turn scores by the
    // best of its own score and its notes' (alternative keys; most turns have no note). 0 disables both.
    double note_key_weight = 0.5;
    // Note granularity: each hit's linked notes join the result with the hit's score × link weight × this decay.
    double link_decay = 0.5;
    // Time-aware search: units dated within a time the query names ("last Saturday", "two weeks ago", resolved
    // against SearchRequest::query_time) get this fraction of the best candidate's score added (0 disables).
    double temporal_weight = 0.25;
    // Context a unit lends its neighbours (docs/retrieval.md, "Turns and sessions lend each other context"); each
    // adds weight × the lender's fused score to the borrower's, and 0 disables it.
    // Turn granularity: a turn borrows from the best of the turns right before and after it in its session (a reply
    // is read with the question it answers; neighbours of candidates join the list).
    double turn_context_weight = 0.5;
    // Turn granularity: a turn borrows from its session's score (a session search of the same query).
    double session_context_weight = 0.0;
    // Session granularity: a session borrows from its best turn (a turn search of the same query).
    double turn_rollup_weight = 0.5;
    // Questions that join several things ("which came first, A or B", "between A and B", "A and B"): each part of
    // the query (decompose_query) is searched too, and a unit gets this weight × its score in each part's search,
    // divided by that search's best score, added (0 disables).
    double subquery_weight = 0.0;
    // Turn and session granularity: a second hop for the query aspects the first hop's top units left out
    // (uncovered_query_text), in questions that join parts (decompose_query): those words are searched and each unit
    // gets this weight × its score there (divided by that search's best) × the first hop's best score added (0
    // disables).
    double second_hop_weight = 0.0;
    // Times relative to an event or a date ("two weeks before my trip", "since I started the new job",
    // memory/event_anchor.h): the event is looked up by a turn search of its phrase, and units in the window get
    // this weight × the temporal boost (temporal_weight × the best score); 0 disables.
    double event_anchor_weight = 0.0;
};

enum class Granularity { kTurn, kSession, kNote };
const char* granularity_name(Granularity g);
bool parse_granularity(const std::string& text, Granularity* out);

enum class Retriever { kLexical, kVector, kHybrid };
const char* retriever_name(Retriever r);
bool parse_retriever(const std::string& text, Retriever* out);

struct MessageInput {
    std::string role;            // user | assistant | system | tool
    std::string content;         // non-empty, valid UTF-8
    std::optional<TimeMs> time;  // conversation time; defaults to the request time, then to now
};

struct AddMessagesRequest {
    std::string cube_id;
    std::string session_id;              // caller's session id; "" = a new session with a generated id
    std::optional<TimeMs> time;          // default conversation time for messages without one
    std::vector<MessageInput> messages;  // 1..1000
    std::string actor = "api";
    // Bulk work (an import, a backfill): the add's text analysis and embedding (most of its CPU) run on the
    // manager's BackgroundLane, at the lowest CPU priority, so that searches come first when the cores are busy; its
    // store transaction runs on the caller's thread as usual. Same result and durability as an interactive add; it
    // takes longer only when the machine is busy.
    bool background = false;
};

struct AddMessagesResult {
    std::string session_id;             // the caller-visible (external) session id
    std::vector<std::string> turn_ids;  // in message order
    std::string job_id;                 // the note job these turns joined; "" when notes are not built
};

struct NoteInput {
    std::string content;
    std::string kind = "fact";
    std::vector<std::string> keywords;
    std::vector<std::string> tags;
    std::string context;
    std::vector<std::string> source_turn_ids;
    std::optional<TimeMs> valid_from;
    std::optional<TimeMs> valid_to;
    double importance = 0.5;
};

// Fields absent are left unchanged.
struct NotePatch {
    std::optional<std::string> content;
    std::optional<std::string> kind;
    std::optional<std::vector<std::string>> keywords;
    std::optional<std::vector<std::string>> tags;
    std::optional<std::string> context;
    std::optional<TimeMs> valid_from;
    std::optional<TimeMs> valid_to;
    std::optional<double> importance;
    std::optional<store::NoteStatus> status;
    std::string reason = "user_edit";
    std::string actor = "api";
};

struct SearchRequest {
    std::string cube_id;
    std::string query;  // non-empty
    Granularity granularity = Granularity::kTurn;
    Retriever retriever = Retriever::kHybrid;
    int top_k = 10;                         // 1..max
    std::optional<TimeMs> time_from;        // inclusive, on conversation time (notes: valid_from/recorded_at)
    std::optional<TimeMs> time_to;          // inclusive
    std::optional<std::string> role;        // turns only
    std::optional<std::string> session_id;  // external session id; turn and session granularity
    // Notes: the facts as they stood at this world time (valid_from <= as_of < valid_to, notes without valid_from
    // by recorded_at), superseded ones included; default: the current (active) notes.
    std::optional<TimeMs> as_of;
    // Turn and session granularity: also match the query against notes and credit their source turns/sessions
    // (MemoryOptions::note_key_weight: added for sessions, best-of for turns). Off = the turn/session keys alone.
    bool note_keys = true;
    // Note granularity: add 1-hop link neighbours (MemoryOptions::link_decay).
    bool expand_links = true;
    // Turn and session granularity: turns and sessions lend each other context (MemoryOptions::turn_context_weight,
    // session_context_weight, turn_rollup_weight; neighbours of a matching turn may join the list, scored by their
    // own calibrated relevance). Off = each unit ranked by its own keys (and its notes').
    bool lend_context = true;
    // When the query is asked: relative dates in it resolve against this time (default: now).
    std::optional<TimeMs> query_time;
    // Set above 0: only hits whose score (calibrated, ScoreCalibrator) is above 0 and at least this are listed, still
    // in ranking order (the REST API and the CLI default it to kDefaultMinScore). Unset or 0: the full ranking,
    // zero-score hits included (evaluation; paraphrases that share no word with the query can score 0).
    std::optional<double> min_score;
};

struct SearchHit {
    Granularity granularity = Granularity::kTurn;
    std::string id;                     // turn id, external session id, or note id
    double score = 0;                   // calibrated relevance in [0, 1] (ScoreCalibrator), comparable across queries
    double rank_score = 0;              // the fused ranking score the hits are ordered by (not calibrated)
    std::string text;                   // turn content, session transcript ("role: content" lines), or note content
    TimeMs time = 0;                    // conversation time (turn), session start, note valid_from or recorded_at
    std::string session_id;             // external session id (notes: of the first source turn; "" if none)
    std::string role;                   // turns only
    std::vector<std::string> turn_ids;  // session: its turns; note: its source turns
    int lexical_rank = -1;              // 1-based rank in the lexical list, -1 = absent
    int vector_rank = -1;
};

struct SessionView {
    store::SessionRecord session;
    std::vector<store::TurnRecord> turns;
};

struct CubeInfo {
    store::CubeRecord cube;
    std::int64_t sessions = 0;
    std::int64_t turns = 0;
    std::int64_t notes = 0;
    std::int64_t links = 0;
};

// How an import treats the archive's ids (ids are unique across the store).
enum class ImportIds {
    kKeep,      // a restore: the archive's ids are kept; an id the store already holds refuses the import
    kReassign,  // every record gets a fresh id; nothing about other cubes' ids can be learnt or clash
};

struct ImportSummary {
    std::string cube_id;
    std::int64_t sessions = 0;
    std::int64_t turns = 0;
    std::int64_t notes = 0;
    std::int64_t note_versions = 0;
    std::int64_t links = 0;
    // With ImportIds::kReassign: every archive id (session, turn, note) and the fresh id it was stored under.
    std::map<std::string, std::string> id_map;
    // Note references (source turns, superseded_by) to ids the archive does not hold; dropped.
    std::int64_t dropped_references = 0;
};

struct ReindexSummary {
    std::int64_t cubes = 0;
    std::int64_t units = 0;
    std::int64_t reembedded = 0;
};

// Disagreements between the store and the derived indexes, per cube and unit type.
struct ConsistencyReport {
    // One (cube, unit type) whose unit ids differ between the store and an index.
    struct Entry {
        std::string cube_id;
        std::string unit_type;  // turn | session | note
        std::int64_t store_count = 0;
        std::int64_t lexical_count = 0;
        std::int64_t vector_count = 0;
        // Ids the store holds and the index lacks, and ids the index holds and the store does not (sorted).
        std::vector<std::string> missing_lexical;
        std::vector<std::string> extra_lexical;
        std::vector<std::string> missing_vector;
        std::vector<std::string> extra_vector;
    };
    std::vector<Entry> mismatches;  // empty = consistent
    bool consistent() const { return mismatches.empty(); }
};

// The state of the derived indexes (/healthz). Dirty: a lexical index write failed (a full disk, an I/O error)
// and the changes since its last good commit are being re-indexed from the store; keyword search may miss them
// until then.
struct IndexHealth {
    bool dirty = false;
    std::string error;                // the first failure since the index was last clean
    std::int64_t dirty_since_ms = 0;  // Unix ms of that failure
    std::int64_t repairs = 0;         // successful repairs since open
    std::int64_t failed_repairs = 0;  // repair attempts that failed (the disk still full)
};

// Process-wide counters for /metrics.
struct ManagerStats {
    std::int64_t cubes = 0;
    std::int64_t turns_added = 0;    // since open
    std::int64_t searches = 0;       // since open
    std::int64_t lexical_units = 0;  // units in the lexical index (all cubes)
    std::int64_t vector_units = 0;
    std::int64_t note_jobs_done = 0;   // since open
    std::int64_t notes_built = 0;      // since open, by note jobs
    std::int64_t recovered_units = 0;  // units re-indexed by the recovery at open (what the last run lost)
    std::int64_t pending_recalls = 0;  // note recalls queued for the store's next write
    // A lexical index write failed and its repair is pending (IndexHealth); repairs of that index since open.
    bool lexical_index_dirty = false;
    std::int64_t lexical_index_repairs = 0;
    // The hit cache (memory/hit_cache.h): its lookups since open that found their unit and that read the store, and
    // what it holds now.
    std::int64_t hit_cache_hits = 0;
    std::int64_t hit_cache_misses = 0;
    std::int64_t hit_cache_bytes = 0;
    std::int64_t hit_cache_entries = 0;
    // Adds run on the background lane since open (AddMessagesRequest::background).
    std::int64_t background_adds = 0;
    // Searches since open whose vector half ran on the search helper (the other core) while their own thread ran
    // the lexical half.
    std::int64_t search_helper_handoffs = 0;
};

using ProgressFn = std::function<void(std::int64_t done, std::int64_t total)>;

}  // namespace kasten::memory
