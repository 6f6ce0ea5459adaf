#include "memory/memory_manager.h"

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <map>
#include <mutex>
#include <set>
#include <unordered_map>

#include <nlohmann/json.hpp>
#include "common/log.h"
#include "memory/cube_archive.h"
#include "memory/id_generator.h"

#include "memory/cube_term_statistics.h"
#include "memory/input_validation.h"
#include "memory/job_runner.h"
#include "memory/lexical_writer.h"
#include "memory/memory_strength.h"
#include "memory/note_text.h"
#include "memory/query_time_windows.h"
#include "retrieval/cosine.h"
#include "retrieval/flat_vector_index.h"
#include "retrieval/fusion.h"
#include "retrieval/lexical_index.h"
#include "store/cube_store.h"
#include "store/database.h"
#include "store/event_log.h"
#include "store/job_store.h"
#include "store/link_store.h"
#include "store/meta_store.h"
#include "store/note_store.h"
#include "store/session_store.h"
#include "store/turn_store.h"

namespace kasten::memory {

using retrieval::ScoredId;
using retrieval::SearchFilter;
using retrieval::UnitAttrs;
using retrieval::UnitType;

namespace {

constexpr int kMaxMessagesPerAdd = 1000;
constexpr char kWatermarkKey[] = "kasten.event_seq";
constexpr char kNoteJobKind[] = "notes.build";

UnitType unit_of(Granularity g) {
    switch (g) {
        case Granularity::kTurn:
            return UnitType::kTurn;
        case Granularity::kSession:
            return UnitType::kSession;
        case Granularity::kNote:
            return UnitType::kNote;
    }
    return UnitType::kTurn;
}

// A session is keyed (indexed and embedded) by what its user said: the user's turns carry the facts worth
// remembering, while assistant turns are long and generic and dilute the key (LongMemEval's finding, and ours: on the
// development split, user-only session keys lift session recall_all@5 of every retriever). Assistant content stays
// searchable at turn granularity. A session without user turns is keyed by all of its turns.
bool is_session_key(const store::TurnRecord& t, bool has_user) {
    return !has_user || t.role == "user";
}

bool has_user_turn(const std::vector<store::TurnRecord>& turns) {
    for (const auto& t : turns) {
        if (t.role == "user") return true;
    }
    return false;
}

// The text a session is embedded under: its key turns' contents, one per line.
std::string session_embedding_text(const std::vector<store::TurnRecord>& turns) {
    const bool has_user = has_user_turn(turns);
    std::string s;
    for (const auto& t : turns) {
        if (!is_session_key(t, has_user)) continue;
        if (!s.empty()) s += '\n';
        s += t.content;
    }
    return s;
}

// The lexical document of a session: the sum of its key turns' analyses.
retrieval::LexicalIndex::Analysis session_analysis(const std::vector<store::TurnRecord>& turns) {
    const bool has_user = has_user_turn(turns);
    std::vector<retrieval::LexicalIndex::Analysis> parts;
    parts.reserve(turns.size());
    for (const auto& t : turns) {
        if (is_session_key(t, has_user)) parts.push_back(retrieval::LexicalIndex::analyze_text(t.content));
    }
    std::vector<const retrieval::LexicalIndex::Analysis*> ptrs;
    for (const auto& p : parts) ptrs.push_back(&p);
    return retrieval::LexicalIndex::merge(ptrs);
}

// A readable transcript ("role: content" lines), returned as a session hit's text.
std::string session_text(const std::vector<store::TurnRecord>& turns) {
    std::string s;
    for (const auto& t : turns) {
        if (!s.empty()) s += '\n';
        s += t.role;
        s += ": ";
        s += t.content;
    }
    return s;
}

UnitAttrs turn_attrs(const store::TurnRecord& t) {
    return UnitAttrs{t.cube_id, UnitType::kTurn, t.id, t.conv_time, t.role, t.session_id};
}
UnitAttrs session_attrs(const store::SessionRecord& s) {
    return UnitAttrs{s.cube_id, UnitType::kSession, s.id, s.started_at, "", s.id};
}
UnitAttrs note_attrs(const store::NoteRecord& n) {
    return UnitAttrs{n.cube_id, UnitType::kNote, n.id, n.valid_from.value_or(n.recorded_at), "", ""};
}

// A note is visible to a search: current active notes by default; as of a world time, the notes whose validity
// interval [valid_from, valid_to) holds it (valid_from defaults to recorded_at), superseded ones included.
bool note_visible(const store::NoteRecord& n, const std::optional<TimeMs>& as_of) {
    if (n.status == store::NoteStatus::kDeleted) return false;
    if (!as_of) return n.status == store::NoteStatus::kActive;
    if (n.status == store::NoteStatus::kArchived) return false;
    if (n.valid_from.value_or(n.recorded_at) > *as_of) return false;
    if (n.valid_to && *n.valid_to <= *as_of) return false;
    return true;
}

// Replaces a store kNotFound by one that names what the caller asked for; other errors pass through.
template <typename T>
Result<T> named(Result<T> r, const std::string& what) {
    if (!r.is_ok() && r.status().code() == StatusCode::kNotFound) return Status::not_found(what + " does not exist");
    return r;
}

std::string cube_label(const std::string& cube_id) {
    return "cube '" + cube_id + "'";
}
std::string in_cube(const char* kind, const std::string& id, const std::string& cube_id) {
    return std::string(kind) + " '" + id + "' in cube '" + cube_id + "'";
}

}  // namespace

const char* granularity_name(Granularity g) {
    switch (g) {
        case Granularity::kTurn:
            return "turn";
        case Granularity::kSession:
            return "session";
        case Granularity::kNote:
            return "note";
    }
    return "turn";
}

bool parse_granularity(const std::string& text, Granularity* out) {
    if (text == "turn")
        *out = Granularity::kTurn;
    else if (text == "session")
        *out = Granularity::kSession;
    else if (text == "note")
        *out = Granularity::kNote;
    else
        return false;
    return true;
}

const char* retriever_name(Retriever r) {
    switch (r) {
        case Retriever::kLexical:
            return "lexical";
        case Retriever::kVector:
            return "vector";
        case Retriever::kHybrid:
            return "hybrid";
    }
    return "hybrid";
}

bool parse_retriever(const std::string& text, Retriever* out) {
    if (text == "lexical")
        *out = Retriever::kLexical;
    else if (text == "vector")
        *out = Retriever::kVector;
    else if (text == "hybrid")
        *out = Retriever::kHybrid;
    else
        return false;
    return true;
}

struct MemoryManager::Impl {
    MemoryOptions options;
    const Clock* clock = nullptr;
    std::shared_ptr<const llm::Embedder> embedder;
    std::string embedder_id;

    // Guards the store and the index-write sequence. Index searches use the indexes' own locks.
    std::mutex mu;
    std::unique_ptr<store::Database> db;
    std::unique_ptr<store::CubeStore> cubes;
    std::unique_ptr<store::SessionStore> sessions;
    std::unique_ptr<store::TurnStore> turns;
    std::unique_ptr<store::NoteStore> notes;
    std::unique_ptr<store::LinkStore> links;
    std::unique_ptr<store::EventLog> events;
    std::unique_ptr<store::MetaStore> meta;
    std::unique_ptr<store::JobStore> jobs;

    std::unique_ptr<retrieval::LexicalIndex> lexical;
    std::unique_ptr<retrieval::FlatVectorIndex> vectors;
    // Cubes whose stored vectors come from another embedder: vector search on them is refused until reindexed.
    std::set<std::string> foreign_vector_cubes;

    std::int64_t last_event_seq = 0;  // highest event seq whose index updates are applied or queued
    std::int64_t uncommitted_units = 0;

    // Conversation turns reach Xapian through this writer (a background thread for on-disk stores). Every reader
    // and every other index mutation drains it first (read-your-writes, and removals are never overtaken).
    std::unique_ptr<LexicalWriter> lexical_writer;

    void drain_lexical() {
        if (lexical_writer) lexical_writer->drain();
    }

    std::atomic<std::int64_t> turns_added{0};
    std::atomic<std::int64_t> searches{0};
    std::atomic<std::int64_t> jobs_done{0};
    std::atomic<std::int64_t> notes_built{0};

    // Notes as note jobs see them when they are link candidates, with when each was said (the conv_time of its first
    // source turn, 0 if unknown): the same neighbours come back for many notes of many jobs. Filled by the neighbour
    // lookup; a note job's changes erase their notes; every other mutation of a cube (any event but turns.add and
    // notes.build) empties it, as does reaching kMaxCandidateNotes. Strength and last access may be stale (links
    // are decided from text, embedding, status and time). REQUIRES mu.
    static constexpr std::size_t kMaxCandidateNotes = 100000;
    std::unordered_map<std::string, std::pair<store::NoteRecord, TimeMs>> candidate_notes;

    // Note jobs: one runs at a time (builders and deciders are called from one thread at a time).
    std::mutex job_run_mu;
    std::unique_ptr<JobRunner> job_runner;

    // ---- helpers, all REQUIRE mu held ----

    Result<std::int64_t> log_event(const std::string& cube, const std::string& actor, const std::string& action,
                                   const std::string& target_type, const std::string& target_id,
                                   const std::string& detail_json = "{}") {
        store::EventRecord e;
        e.cube_id = cube;
        e.actor = actor;
        e.action = action;
        e.target_type = target_type;
        e.target_id = target_id;
        e.detail_json = detail_json;
        e.at = clock->now_ms();
        if (action != "turns.add" && action != "notes.build") candidate_notes.clear();
        return events->append(e);
    }

    Status maybe_commit_lexical(std::int64_t units) {
        uncommitted_units += units;
        if (uncommitted_units < options.lexical_commit_every) return Status::ok();
        return commit_lexical();
    }

    Status commit_lexical() {
        drain_lexical();
        // After a failed background upsert the watermark stays where it was: the next open re-indexes from there.
        const bool failed = lexical_writer && lexical_writer->failed();
        if (!failed) KASTEN_RETURN_IF_ERROR(lexical->set_metadata(kWatermarkKey, std::to_string(last_event_seq)));
        KASTEN_RETURN_IF_ERROR(lexical->commit());
        uncommitted_units = 0;
        return Status::ok();
    }

    Status check_cube_embedder(const store::CubeRecord& cube) {
        if (!cube.embedder_id.empty() && cube.embedder_id != embedder_id) {
            return Status::failed_precondition("cube '" + cube.id + "' holds vectors from embedder '" +
                                               cube.embedder_id + "' but the active embedder is '" + embedder_id +
                                               "'; run `kasten reindex --cube " + cube.id + "` to re-embed it");
        }
        return Status::ok();
    }

    Status index_turn(const store::TurnRecord& t) {
        KASTEN_RETURN_IF_ERROR(lexical->upsert(turn_attrs(t), t.content));
        if (!t.embedding.empty()) KASTEN_RETURN_IF_ERROR(vectors->upsert(turn_attrs(t), t.embedding));
        return Status::ok();
    }

    Status index_session(const store::SessionRecord& s, const retrieval::LexicalIndex::Analysis& analysis,
                         bool known_new = false) {
        KASTEN_RETURN_IF_ERROR(lexical->upsert_analyzed(session_attrs(s), analysis, false, known_new));
        if (!s.embedding.empty()) KASTEN_RETURN_IF_ERROR(vectors->upsert(session_attrs(s), s.embedding));
        return Status::ok();
    }

    // known_new: the note was just created (its id is fresh), so no document of it exists yet.
    Status index_note(const store::NoteRecord& n, bool known_new = false) {
        if (n.status == store::NoteStatus::kDeleted) {
            KASTEN_RETURN_IF_ERROR(lexical->remove(n.cube_id, UnitType::kNote, n.id));
            return vectors->remove(n.cube_id, UnitType::kNote, n.id);
        }
        KASTEN_RETURN_IF_ERROR(lexical->upsert(note_attrs(n), note_index_text(n), known_new));
        if (!n.embedding.empty()) KASTEN_RETURN_IF_ERROR(vectors->upsert(note_attrs(n), n.embedding));
        return Status::ok();
    }

    // Loads every stored vector of a cube into the vector index (vectors of a foreign embedder are skipped and the
    // cube is marked).
    Status load_vectors(const store::CubeRecord& cube) {
        KASTEN_RETURN_IF_ERROR(vectors->remove_cube(cube.id));
        if (!cube.embedder_id.empty() && cube.embedder_id != embedder_id) {
            foreign_vector_cubes.insert(cube.id);
            log::warn(
                "cube '{}' was embedded with '{}', active embedder is '{}': vector search disabled for it "
                "until `kasten reindex --cube {}`",
                cube.id, cube.embedder_id, embedder_id, cube.id);
            return Status::ok();
        }
        foreign_vector_cubes.erase(cube.id);
        KASTEN_RETURN_IF_ERROR(turns->for_each(cube.id, [&](const store::TurnRecord& t) -> Status {
            if (t.embedding.empty() || t.embedder_id != embedder_id) return Status::ok();
            return vectors->upsert(turn_attrs(t), t.embedding);
        }));
        KASTEN_ASSIGN_OR_RETURN(auto ss, sessions->list(cube.id, -1, 0));
        for (const auto& s : ss) {
            if (s.embedding.empty() || s.embedder_id != embedder_id) continue;
            KASTEN_RETURN_IF_ERROR(vectors->upsert(session_attrs(s), s.embedding));
        }
        return notes->for_each(cube.id, [&](const store::NoteRecord& n) -> Status {
            if (n.embedding.empty() || n.embedder_id != embedder_id || n.status == store::NoteStatus::kDeleted) {
                return Status::ok();
            }
            return vectors->upsert(note_attrs(n), n.embedding);
        });
    }

    // Rebuilds the lexical documents of one cube from the store.
    Status rebuild_lexical(const std::string& cube_id, std::int64_t* units) {
        KASTEN_RETURN_IF_ERROR(lexical->remove_cube(cube_id));
        std::int64_t n = 0;
        KASTEN_RETURN_IF_ERROR(turns->for_each(cube_id, [&](const store::TurnRecord& t) -> Status {
            ++n;
            return lexical->upsert(turn_attrs(t), t.content);
        }));
        KASTEN_ASSIGN_OR_RETURN(auto ss, sessions->list(cube_id, -1, 0));
        for (const auto& s : ss) {
            KASTEN_ASSIGN_OR_RETURN(auto ts, turns->list_by_session(cube_id, s.id));
            KASTEN_RETURN_IF_ERROR(lexical->upsert_analyzed(session_attrs(s), session_analysis(ts)));
            ++n;
        }
        KASTEN_RETURN_IF_ERROR(notes->for_each(cube_id, [&](const store::NoteRecord& note) -> Status {
            if (note.status == store::NoteStatus::kDeleted) return Status::ok();
            ++n;
            return lexical->upsert(note_attrs(note), note_index_text(note));
        }));
        if (units) *units += n;
        return Status::ok();
    }

    // Compares per-cube, per-type counts of the store and both indexes.
    Result<ConsistencyReport> consistency() {
        ConsistencyReport report;
        KASTEN_ASSIGN_OR_RETURN(auto all, cubes->list());
        for (const auto& c : all) {
            KASTEN_ASSIGN_OR_RETURN(std::int64_t nt, turns->count(c.id));
            KASTEN_ASSIGN_OR_RETURN(std::int64_t ns, sessions->count(c.id));
            std::int64_t nn = 0;
            KASTEN_RETURN_IF_ERROR(notes->for_each(c.id, [&](const store::NoteRecord& n) -> Status {
                if (n.status != store::NoteStatus::kDeleted) ++nn;
                return Status::ok();
            }));
            const std::pair<UnitType, std::int64_t> expected[] = {
                {UnitType::kTurn, nt}, {UnitType::kSession, ns}, {UnitType::kNote, nn}};
            bool vectors_expected = c.embedder_id == embedder_id || c.embedder_id.empty();
            for (auto [type, count] : expected) {
                KASTEN_ASSIGN_OR_RETURN(std::uint64_t lex, lexical->count(c.id, type));
                std::int64_t vec = static_cast<std::int64_t>(vectors->size(c.id, type));
                bool ok = static_cast<std::int64_t>(lex) == count && (!vectors_expected || vec == count);
                if (!ok) {
                    report.mismatches.push_back(
                        {c.id, retrieval::unit_type_name(type), count, static_cast<std::int64_t>(lex), vec});
                }
            }
        }
        return report;
    }

    // Loads the vectors but leaves the lexical index as it is (for inspecting it, e.g. `kasten reindex
    // --check-only`); the watermark is kept, so the next verifying open still repairs what is stale.
    Status load_without_recovery() {
        auto wm = lexical->metadata(kWatermarkKey);
        if (wm.is_ok() && !wm->empty()) last_event_seq = std::stoll(*wm);
        KASTEN_ASSIGN_OR_RETURN(auto all, cubes->list());
        for (const auto& c : all) KASTEN_RETURN_IF_ERROR(load_vectors(c));
        return Status::ok();
    }

    // ---- candidates and note jobs ----

    // The fused candidate list of one unit type for a query (text, and its embedding when given). Takes no lock of
    // the manager (the indexes have their own).
    Result<std::vector<retrieval::FusedHit>> candidates(std::string_view text, const std::vector<float>* query_vector,
                                                        const SearchFilter& filter, Retriever retriever, int pool) {
        std::vector<ScoredId> lex, vec;
        if (retriever != Retriever::kVector) {
            drain_lexical();  // read your writes: every acknowledged add is searchable
            KASTEN_ASSIGN_OR_RETURN(lex, lexical->search(text, filter, pool));
        }
        if (retriever != Retriever::kLexical) {
            std::vector<float> q = query_vector ? *query_vector : embedder->embed(text);
            KASTEN_ASSIGN_OR_RETURN(vec, vectors->search(q, filter, pool));
        }
        std::vector<retrieval::FusedHit> fused;
        if (retriever == Retriever::kHybrid) return fuse(lex, vec, pool);
        const auto& list = retriever == Retriever::kLexical ? lex : vec;
        for (size_t i = 0; i < list.size(); ++i) {
            retrieval::FusedHit h;
            h.id = list[i].id;
            h.score = list[i].score;
            h.lexical_rank = retriever == Retriever::kLexical ? static_cast<int>(i) + 1 : -1;
            h.vector_rank = retriever == Retriever::kVector ? static_cast<int>(i) + 1 : -1;
            fused.push_back(std::move(h));
        }
        return fused;
    }

    // Hybrid candidates for pre-analysed index terms and a query vector (no query parsing: note jobs' neighbours).
    Result<std::vector<retrieval::FusedHit>> hybrid_candidates(const std::vector<std::string>& terms,
                                                               const std::vector<float>& query_vector,
                                                               const SearchFilter& filter, int pool) {
        drain_lexical();
        KASTEN_ASSIGN_OR_RETURN(auto lex, lexical->search_terms(terms, filter, pool));
        KASTEN_ASSIGN_OR_RETURN(auto vec, vectors->search(query_vector, filter, pool));
        return fuse(lex, vec, pool);
    }

    Result<std::vector<retrieval::FusedHit>> fuse(const std::vector<ScoredId>& lex, const std::vector<ScoredId>& vec,
                                                  int pool) const {
        if (options.fusion == Fusion::kMinMax) {
            return retrieval::fuse_weighted(lex, vec, pool, options.lexical_weight, options.vector_weight);
        }
        return retrieval::fuse_reciprocal_rank(lex, vec, pool, options.rrf_k, options.lexical_weight,
                                               options.vector_weight);
    }

    // Note-granularity results: visible notes, scores weighted by MemoryBank retention, 1-hop link neighbours added
    // with a decayed score; the returned notes count as recalled (strength refreshed).
    Result<std::vector<SearchHit>> note_hits(const SearchRequest& req, std::vector<retrieval::FusedHit> fused) {
        struct Scored {
            store::NoteRecord note;
            double score = 0;
            int lexical_rank = -1;
            int vector_rank = -1;
        };
        std::lock_guard<std::mutex> lock(mu);
        const TimeMs now = clock->now_ms();
        std::vector<Scored> found;
        std::unordered_map<std::string, size_t> seen;
        for (const auto& f : fused) {
            auto n = notes->get(req.cube_id, f.id);
            if (!n) continue;
            if (!note_visible(*n, req.as_of)) {
                // A current search that matches an outdated fact answers with the fact that replaced it ("where do
                // I live" matches "I live in Boston", superseded by "I moved to Denver").
                if (req.as_of || n->status != store::NoteStatus::kSuperseded) continue;
                for (int hops = 0;
                     hops < 8 && n && n->status == store::NoteStatus::kSuperseded && !n->superseded_by.empty();
                     ++hops) {
                    n = notes->get(req.cube_id, n->superseded_by);
                }
                if (!n || !note_visible(*n, req.as_of)) continue;
            }
            const double score = f.score * ranking_factor(n->strength, n->last_access, now);
            auto it = seen.find(n->id);
            if (it != seen.end()) {
                found[it->second].score = std::max(found[it->second].score, score);
                continue;
            }
            seen[n->id] = found.size();
            found.push_back({std::move(n).value(), score, f.lexical_rank, f.vector_rank});
        }
        auto by_score = [](const Scored& a, const Scored& b) { return a.score > b.score; };
        std::stable_sort(found.begin(), found.end(), by_score);
        if (req.expand_links && options.link_decay > 0) {
            const size_t parents = std::min(found.size(), static_cast<size_t>(req.top_k));
            std::vector<Scored> extra;
            std::set<std::string> added;
            for (size_t i = 0; i < parents; ++i) {
                KASTEN_ASSIGN_OR_RETURN(auto ls, links->list_for_note(req.cube_id, found[i].note.id));
                for (const auto& l : ls) {
                    const std::string& other = l.src_note_id == found[i].note.id ? l.dst_note_id : l.src_note_id;
                    if (seen.count(other) || !added.insert(other).second) continue;
                    auto n = notes->get(req.cube_id, other);
                    if (!n || !note_visible(*n, req.as_of)) continue;
                    const double score = found[i].score * l.weight * options.link_decay *
                                         ranking_factor(n->strength, n->last_access, now);
                    extra.push_back({std::move(n).value(), score, -1, -1});
                }
            }
            for (auto& e : extra) found.push_back(std::move(e));
            std::stable_sort(found.begin(), found.end(), by_score);
        }
        if (static_cast<int>(found.size()) > req.top_k) found.resize(static_cast<size_t>(req.top_k));

        // MemoryBank: recall refreshes a memory. Best effort: a failed refresh never fails the search.
        if (!found.empty()) {
            store::Transaction tx(*db);
            Status st = tx.begin();
            for (size_t i = 0; st.is_ok() && i < found.size(); ++i) {
                const auto& n = found[i].note;
                st = notes->touch(req.cube_id, n.id, now, refreshed_strength(n.strength));
            }
            if (st.is_ok()) st = tx.commit();
            if (!st.is_ok()) log::warn("refreshing recalled notes: {}", st.to_string());
        }

        std::vector<SearchHit> hits;
        for (auto& f : found) {
            SearchHit hit;
            hit.granularity = Granularity::kNote;
            hit.score = f.score;
            hit.lexical_rank = f.lexical_rank;
            hit.vector_rank = f.vector_rank;
            hit.id = f.note.id;
            hit.text = f.note.content;
            hit.time = f.note.valid_from.value_or(f.note.recorded_at);
            hit.turn_ids = f.note.source_turn_ids;
            hits.push_back(std::move(hit));
        }
        return hits;
    }

    // Time-aware ranking: units inside a time window the query names get options.temporal_weight × the best score
    // added; in-window units the query's candidate pool missed join the list. `fused` stays sorted by score.
    Status boost_in_windows(std::vector<retrieval::FusedHit>& fused, std::string_view query,
                            const std::vector<float>* query_vector, const SearchFilter& filter, Retriever retriever,
                            int pool, const std::vector<TimeWindow>& windows) {
        if (windows.empty() || options.temporal_weight <= 0) return Status::ok();
        double top = 0;
        for (const auto& f : fused) top = std::max(top, f.score);
        if (top <= 0) top = 1;
        std::set<std::string> inside;
        for (const auto& w : windows) {
            SearchFilter f = filter;
            f.time_from = filter.time_from ? std::max(*filter.time_from, w.from) : w.from;
            f.time_to = filter.time_to ? std::min(*filter.time_to, w.to) : w.to;
            if (*f.time_from > *f.time_to) continue;
            KASTEN_ASSIGN_OR_RETURN(auto hits, candidates(query, query_vector, f, retriever, pool));
            for (const auto& h : hits) inside.insert(h.id);
        }
        if (inside.empty()) return Status::ok();
        const double bonus = options.temporal_weight * top;
        for (auto& f : fused) {
            if (inside.erase(f.id)) f.score += bonus;
        }
        for (const auto& id : inside) {
            retrieval::FusedHit h;
            h.id = id;
            h.score = bonus;
            fused.push_back(std::move(h));
        }
        std::stable_sort(fused.begin(), fused.end(),
                         [](const retrieval::FusedHit& x, const retrieval::FusedHit& y) { return x.score > y.score; });
        return Status::ok();
    }

    // The weaver's view of the cube's existing notes.
    struct Neighbourhood final : NoteNeighbourhood {
        explicit Neighbourhood(Impl& impl) : m(impl) {}
        Result<bool> has_active_hash(const std::string& cube_id, const std::string& hash) override {
            std::lock_guard<std::mutex> lock(m.mu);
            return m.notes->has_active_hash(cube_id, hash);
        }
        Result<std::vector<NeighbourNote>> neighbours(const store::NoteRecord& note, int k) override {
            SearchFilter filter;
            filter.cube_id = note.cube_id;
            filter.type = UnitType::kNote;
            // The lexical side queries the note's most salient keywords (builders list them best first): querying
            // the whole content made the note jobs of the LongMemEval development split about 25% slower, and all
            // eight keywords instead of four about 10%, for the same recall.
            constexpr std::size_t kQueryKeywords = 4;
            std::string keys;
            for (std::size_t i = 0; i < note.keywords.size() && i < kQueryKeywords; ++i) keys += note.keywords[i] + " ";
            if (keys.empty()) keys = note.content;
            KASTEN_ASSIGN_OR_RETURN(auto fused, m.hybrid_candidates(retrieval::LexicalIndex::analyze(keys),
                                                                    note.embedding, filter, 2 * k + 1));
            std::lock_guard<std::mutex> lock(m.mu);
            std::vector<NeighbourNote> out;
            for (const auto& f : fused) {
                if (static_cast<int>(out.size()) >= k) break;
                auto cached = m.candidate_notes.find(f.id);
                if (cached == m.candidate_notes.end() || cached->second.first.cube_id != note.cube_id) {
                    auto n = m.notes->get(note.cube_id, f.id);
                    if (!n) continue;
                    TimeMs stated_at = 0;
                    if (!n->source_turn_ids.empty()) {
                        auto conv_time = m.turns->conv_time(note.cube_id, n->source_turn_ids.front());
                        if (conv_time) stated_at = *conv_time;
                    }
                    if (m.candidate_notes.size() >= kMaxCandidateNotes) m.candidate_notes.clear();
                    cached =
                        m.candidate_notes.insert_or_assign(f.id, std::make_pair(std::move(n).value(), stated_at)).first;
                }
                const store::NoteRecord& n = cached->second.first;
                if (n.status != store::NoteStatus::kActive || n.id == note.id) continue;
                NeighbourNote nb;
                nb.cosine = retrieval::cosine_similarity(note.embedding, n.embedding);
                nb.score = f.score;
                nb.stated_at = cached->second.second;
                nb.note = n;
                out.push_back(std::move(nb));
            }
            return out;
        }
        Impl& m;
    };

    // Adds the new turns to the session's queued note job, or queues one. REQUIRES mu and an open transaction.
    Result<std::string> queue_note_job(const std::string& cube_id, const std::string& session_id,
                                       const std::vector<store::TurnRecord>& new_turns, TimeMs now) {
        KASTEN_ASSIGN_OR_RETURN(auto queued, jobs->find_queued(cube_id, kNoteJobKind, session_id));
        nlohmann::json payload = {{"session_id", session_id}, {"turn_ids", nlohmann::json::array()}};
        if (queued) {
            payload = nlohmann::json::parse(queued->payload_json, nullptr, /*allow_exceptions=*/false);
            if (!payload.is_object() || !payload.contains("turn_ids") || !payload["turn_ids"].is_array()) {
                return Status::corruption("job '" + queued->id + "' has a malformed payload");
            }
        }
        for (const auto& t : new_turns) payload["turn_ids"].push_back(t.id);
        if (queued) {
            KASTEN_RETURN_IF_ERROR(jobs->set_queued_payload(queued->id, payload.dump(), now));
            return queued->id;
        }
        store::JobRecord j;
        j.id = generate_id("j_");
        j.cube_id = cube_id;
        j.kind = kNoteJobKind;
        j.payload_json = payload.dump();
        j.created_at = now;
        j.updated_at = now;
        j.session_key = session_id;
        KASTEN_RETURN_IF_ERROR(jobs->insert(j));
        return j.id;
    }

    // Claims the oldest queued job and loads its batch. REQUIRES mu. nullopt when nothing is queued; a job that
    // cannot run (gave up, nothing left to read) is settled here and reported with an empty batch.
    Result<std::optional<std::pair<store::JobRecord, NoteBatch>>> claim_next_job() {
        KASTEN_ASSIGN_OR_RETURN(auto queued, jobs->list_by_state(store::JobState::kQueued, 1));
        if (queued.empty()) return std::optional<std::pair<store::JobRecord, NoteBatch>>();
        store::JobRecord job = std::move(queued.front());
        const TimeMs now = clock->now_ms();
        KASTEN_RETURN_IF_ERROR(jobs->claim(job.id, now));
        job.attempts++;
        NoteBatch batch;
        batch.cube_id = job.cube_id;
        auto settle = [&](store::JobState state, const std::string& error) -> Status {
            if (state == store::JobState::kDone) return jobs->finish(job.id, R"({"notes":0})", now);
            return jobs->set_state(job.id, state, error, now);
        };
        if (job.attempts > options.job_max_attempts) {
            KASTEN_RETURN_IF_ERROR(
                settle(store::JobState::kFailed,
                       fmt::format("gave up after {} attempts; last error: {}", options.job_max_attempts, job.error)));
            return std::optional(std::make_pair(std::move(job), std::move(batch)));
        }
        const nlohmann::json payload = nlohmann::json::parse(job.payload_json, nullptr, false);
        if (!payload.is_object() || !payload.contains("session_id") || !payload["session_id"].is_string() ||
            !payload.contains("turn_ids") || !payload["turn_ids"].is_array()) {
            KASTEN_RETURN_IF_ERROR(settle(store::JobState::kFailed, "malformed job payload"));
            return std::optional(std::make_pair(std::move(job), std::move(batch)));
        }
        std::set<std::string> wanted;
        for (const auto& id : payload["turn_ids"]) {
            if (id.is_string()) wanted.insert(id.get<std::string>());
        }
        const std::string session_id = payload["session_id"].get<std::string>();
        auto session = sessions->get(job.cube_id, session_id);
        if (session) {
            batch.session_id = session->external_id;
            KASTEN_ASSIGN_OR_RETURN(auto ts, turns->list_by_session(job.cube_id, session_id));
            for (const auto& t : ts) {
                if (wanted.count(t.id)) batch.turns.push_back(SourceTurn{t.id, t.role, t.content, t.conv_time});
            }
        } else if (session.status().code() != StatusCode::kNotFound) {
            return session.status();
        }
        if (batch.turns.empty()) KASTEN_RETURN_IF_ERROR(settle(store::JobState::kDone, ""));  // all deleted
        return std::optional(std::make_pair(std::move(job), std::move(batch)));
    }

    // Stores a plan and completes its job in one transaction, then indexes what changed. REQUIRES mu.
    Status apply_plan(const store::JobRecord& job, const WeavePlan& plan, const std::string& builder_id) {
        const TimeMs now = clock->now_ms();
        const std::string& actor = options.weave.actor;
        store::Transaction tx(*db);
        KASTEN_RETURN_IF_ERROR(tx.begin());
        auto cube = cubes->get(job.cube_id);
        if (!cube) return cube.status().code() == StatusCode::kNotFound ? Status::ok() : cube.status();
        for (const auto& n : plan.notes) KASTEN_RETURN_IF_ERROR(notes->insert(n, actor));
        std::vector<store::NoteRecord> changed;
        int superseded = 0, evolved = 0, links_added = 0;
        for (const auto& c : plan.changes) {
            auto cur = notes->get(job.cube_id, c.note_id);
            if (!cur) {
                if (cur.status().code() == StatusCode::kNotFound) continue;  // deleted since the plan was made
                return cur.status();
            }
            if (cur->status != store::NoteStatus::kActive) continue;
            if (c.close_valid_to) {
                cur->valid_to = *c.close_valid_to;
                cur->superseded_by = c.superseded_by;
                cur->superseded_at = now;
                cur->status = store::NoteStatus::kSuperseded;
                superseded++;
            } else {
                if (c.tags) cur->tags = *c.tags;
                if (c.context) cur->context = *c.context;
                cur->embedding = embedder->embed(note_index_text(*cur));
                KASTEN_RETURN_IF_ERROR(notes->set_embedding(job.cube_id, cur->id, cur->embedding, embedder_id));
                evolved++;
            }
            KASTEN_RETURN_IF_ERROR(notes->update(*cur, c.reason, actor, now));
            candidate_notes.erase(cur->id);
            changed.push_back(std::move(cur).value());
        }
        for (const auto& l : plan.links) {
            Status st = links->upsert(l);
            if (st.code() == StatusCode::kNotFound) continue;
            KASTEN_RETURN_IF_ERROR(st);
            links_added++;
        }
        const nlohmann::json result = {{"builder", builder_id},
                                       {"drafts", plan.drafts},
                                       {"notes", plan.notes.size()},
                                       {"exact_duplicates", plan.exact_duplicates},
                                       {"near_duplicates", plan.near_duplicates},
                                       {"links", links_added},
                                       {"superseded", superseded},
                                       {"evolved", evolved},
                                       {"build_ms", plan.build_seconds * 1000.0}};
        KASTEN_RETURN_IF_ERROR(jobs->finish(job.id, result.dump(), now));
        KASTEN_ASSIGN_OR_RETURN(std::int64_t seq,
                                log_event(job.cube_id, actor, "notes.build", "job", job.id, result.dump()));
        KASTEN_RETURN_IF_ERROR(tx.commit());
        last_event_seq = seq;
        jobs_done++;
        notes_built += static_cast<std::int64_t>(plan.notes.size());
        for (const auto& n : plan.notes) {
            Status st = index_note(n, /*known_new=*/true);
            if (!st.is_ok()) log::error("indexing note {}: {}", n.id, st.to_string());
        }
        for (const auto& n : changed) {  // their stored state: the index reads only text, time and embedding
            Status st = index_note(n);
            if (!st.is_ok()) log::error("indexing note {}: {}", n.id, st.to_string());
        }
        return Status::ok();
    }

    // Runs the oldest queued note job, if any.
    Result<JobRunner::Outcome> run_one_job() {
        std::lock_guard<std::mutex> run_lock(job_run_mu);
        if (!options.note_builder) return JobRunner::Outcome::kIdle;
        std::optional<std::pair<store::JobRecord, NoteBatch>> claimed;
        {
            std::lock_guard<std::mutex> lock(mu);
            KASTEN_ASSIGN_OR_RETURN(claimed, claim_next_job());
        }
        if (!claimed) return JobRunner::Outcome::kIdle;
        auto& [job, batch] = *claimed;
        if (batch.turns.empty()) return JobRunner::Outcome::kRan;  // settled without work
        CubeTermStatistics stats(*lexical, job.cube_id);
        drain_lexical();  // the batch's own turns count in the statistics
        Neighbourhood hood(*this);
        NoteWeaver weaver(*options.note_builder, *options.link_decider, *embedder, options.weave);
        Result<WeavePlan> plan = weaver.weave(batch, stats, hood, clock->now_ms());
        std::lock_guard<std::mutex> lock(mu);
        if (!plan) {
            const bool give_up = job.attempts >= options.job_max_attempts;
            log::warn("note job {} (cube '{}') failed, attempt {}/{}: {}", job.id, job.cube_id, job.attempts,
                      options.job_max_attempts, plan.status().to_string());
            Status st = jobs->set_state(job.id, give_up ? store::JobState::kFailed : store::JobState::kQueued,
                                        plan.status().to_string(), clock->now_ms());
            if (!st.is_ok() && st.code() != StatusCode::kNotFound) return st;
            return JobRunner::Outcome::kFailed;
        }
        KASTEN_RETURN_IF_ERROR(apply_plan(job, *plan, options.note_builder->id()));
        return JobRunner::Outcome::kRan;
    }

    JobRunner::Outcome run_next_job() {
        Result<JobRunner::Outcome> r = run_one_job();
        if (r.is_ok()) return *r;
        log::error("note jobs: {}", r.status().to_string());
        return JobRunner::Outcome::kFailed;
    }

    Status recover_indexes() {
        KASTEN_ASSIGN_OR_RETURN(auto all, cubes->list());
        std::set<std::string> existing;
        for (const auto& c : all) existing.insert(c.id);

        // 1. Lexical: re-index every cube touched by an event after the index's committed watermark.
        std::int64_t watermark = 0;
        auto wm = lexical->metadata(kWatermarkKey);
        if (wm.is_ok() && !wm->empty()) watermark = std::stoll(*wm);
        std::set<std::string> touched;
        std::int64_t max_seq = watermark;
        for (std::int64_t after = watermark;;) {
            KASTEN_ASSIGN_OR_RETURN(auto evs, events->list_all(after, 5000));
            if (evs.empty()) break;
            for (const auto& e : evs) {
                touched.insert(e.cube_id);
                max_seq = std::max(max_seq, e.seq);
            }
            after = evs.back().seq;
        }
        std::int64_t units = 0;
        for (const auto& cube : touched) {
            if (existing.count(cube)) {
                KASTEN_RETURN_IF_ERROR(rebuild_lexical(cube, &units));
            } else {
                KASTEN_RETURN_IF_ERROR(lexical->remove_cube(cube));
            }
        }
        last_event_seq = max_seq;
        // 2. Vectors live in memory: load them from the store.
        for (const auto& c : all) KASTEN_RETURN_IF_ERROR(load_vectors(c));
        // 3. Counts must now agree; anything else (a lost or foreign index directory) is rebuilt.
        KASTEN_ASSIGN_OR_RETURN(auto report, consistency());
        std::set<std::string> bad;
        for (const auto& m : report.mismatches) bad.insert(m.cube_id);
        for (const auto& cube : bad) {
            log::warn("lexical index disagrees with the store for cube '{}': rebuilding it", cube);
            KASTEN_RETURN_IF_ERROR(rebuild_lexical(cube, &units));
        }
        if (!touched.empty() || !bad.empty()) {
            log::info("index recovery: re-indexed {} units in {} cube(s)", units, touched.size() + bad.size());
        }
        return commit_lexical();
    }
};

MemoryManager::MemoryManager(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

MemoryManager::~MemoryManager() {
    if (!impl_) return;
    impl_->job_runner.reset();  // before taking the lock: a running job needs it to finish
    std::lock_guard<std::mutex> lock(impl_->mu);
    if (impl_->lexical && impl_->db) {
        Status st = impl_->commit_lexical();
        if (!st.is_ok()) log::error("closing memory: {}", st.to_string());
    }
    impl_->lexical_writer.reset();  // everything was drained and committed above
}

Result<std::unique_ptr<MemoryManager>> MemoryManager::open(MemoryOptions options) {
    if (!options.embedder) return Status::invalid_argument("MemoryOptions.embedder is required");
    auto impl = std::make_unique<Impl>();
    impl->clock = options.clock ? options.clock : &SystemClock::instance();
    impl->embedder = options.embedder;
    impl->embedder_id = options.embedder->id();
    if (options.in_memory) {
        KASTEN_ASSIGN_OR_RETURN(impl->db, store::Database::open(":memory:"));
        impl->lexical = retrieval::LexicalIndex::in_memory();
    } else {
        if (options.data_dir.empty()) return Status::invalid_argument("MemoryOptions.data_dir is required");
        std::error_code ec;
        std::filesystem::create_directories(options.data_dir, ec);
        if (ec) return Status::io_error("cannot create data dir '" + options.data_dir + "': " + ec.message());
        // Lexical first: its lock tells us when another process owns this data dir.
        KASTEN_ASSIGN_OR_RETURN(impl->lexical, retrieval::LexicalIndex::open(options.data_dir + "/lexical"));
        KASTEN_ASSIGN_OR_RETURN(impl->db, store::Database::open(options.data_dir + "/kasten.db"));
    }
    impl->vectors = std::make_unique<retrieval::FlatVectorIndex>(impl->embedder->dim());
    auto& db = *impl->db;
    impl->cubes = std::make_unique<store::CubeStore>(db);
    impl->sessions = std::make_unique<store::SessionStore>(db);
    impl->turns = std::make_unique<store::TurnStore>(db);
    impl->notes = std::make_unique<store::NoteStore>(db);
    impl->links = std::make_unique<store::LinkStore>(db);
    impl->events = std::make_unique<store::EventLog>(db);
    impl->meta = std::make_unique<store::MetaStore>(db);
    impl->jobs = std::make_unique<store::JobStore>(db);
    if (options.note_builder && !options.link_decider) {
        return Status::invalid_argument("MemoryOptions.link_decider is required with a note_builder");
    }
    impl->options = std::move(options);
    {
        std::lock_guard<std::mutex> lock(impl->mu);
        if (!impl->options.in_memory) {
            if (impl->options.verify_on_open) {
                KASTEN_RETURN_IF_ERROR(impl->recover_indexes());
            } else {
                KASTEN_RETURN_IF_ERROR(impl->load_without_recovery());
            }
        }
        impl->lexical_writer = std::make_unique<LexicalWriter>(*impl->lexical, /*background=*/!impl->options.in_memory,
                                                               impl->options.lexical_commit_every, kWatermarkKey);
        // Jobs whose process died while running them start over (their work commits with their completion, so
        // nothing of theirs was stored).
        KASTEN_ASSIGN_OR_RETURN(std::int64_t requeued, impl->jobs->requeue_running(impl->clock->now_ms()));
        if (requeued > 0) log::info("{} interrupted note job(s) queued again", requeued);
    }
    auto manager = std::unique_ptr<MemoryManager>(new MemoryManager(std::move(impl)));
    if (manager->impl_->options.note_builder && manager->impl_->options.background_jobs) {
        Impl* raw = manager->impl_.get();
        raw->job_runner = std::make_unique<JobRunner>([raw] { return raw->run_next_job(); });
    }
    return manager;
}

// ---------------------------------------------------------------- cubes

Result<store::CubeRecord> MemoryManager::create_cube(const std::string& id, const std::string& name,
                                                     const std::string& actor) {
    KASTEN_RETURN_IF_ERROR(validate_identifier("cube id", id));
    KASTEN_RETURN_IF_ERROR(validate_text("name", name, true));
    auto& m = *impl_;
    std::lock_guard<std::mutex> lock(m.mu);
    store::CubeRecord c;
    c.id = id;
    c.name = name.empty() ? id : name;
    c.embedder_id = m.embedder_id;
    c.created_at = m.clock->now_ms();
    store::Transaction tx(*m.db);
    KASTEN_RETURN_IF_ERROR(tx.begin());
    Status st = m.cubes->create(c);
    if (st.code() == StatusCode::kAlreadyExists) return Status::already_exists("cube '" + id + "' already exists");
    KASTEN_RETURN_IF_ERROR(st);
    KASTEN_ASSIGN_OR_RETURN(std::int64_t seq, m.log_event(id, actor, "cube.create", "cube", id));
    KASTEN_RETURN_IF_ERROR(tx.commit());
    m.last_event_seq = seq;
    return c;
}

Result<CubeInfo> MemoryManager::get_cube(const std::string& id) {
    auto& m = *impl_;
    std::lock_guard<std::mutex> lock(m.mu);
    KASTEN_ASSIGN_OR_RETURN(auto c, named(m.cubes->get(id), cube_label(id)));
    KASTEN_ASSIGN_OR_RETURN(auto stats, m.cubes->stats(id));
    CubeInfo info;
    info.cube = std::move(c);
    info.sessions = stats.sessions;
    info.turns = stats.turns;
    info.notes = stats.notes;
    info.links = stats.links;
    return info;
}

Result<std::vector<store::CubeRecord>> MemoryManager::list_cubes() {
    std::lock_guard<std::mutex> lock(impl_->mu);
    return impl_->cubes->list();
}

Status MemoryManager::delete_cube(const std::string& id, const std::string& actor) {
    auto& m = *impl_;
    std::lock_guard<std::mutex> lock(m.mu);
    m.drain_lexical();  // queued upserts must land before this removes or rebuilds
    store::Transaction tx(*m.db);
    KASTEN_RETURN_IF_ERROR(tx.begin());
    Status st = m.cubes->remove(id);
    if (st.code() == StatusCode::kNotFound) return Status::not_found("cube '" + id + "' does not exist");
    KASTEN_RETURN_IF_ERROR(st);
    KASTEN_ASSIGN_OR_RETURN(std::int64_t seq, m.log_event(id, actor, "cube.delete", "cube", id));
    KASTEN_RETURN_IF_ERROR(tx.commit());
    m.last_event_seq = seq;
    m.foreign_vector_cubes.erase(id);
    KASTEN_RETURN_IF_ERROR(m.vectors->remove_cube(id));
    KASTEN_RETURN_IF_ERROR(m.lexical->remove_cube(id));
    // Deletion is committed to the lexical index at once: deleted data must not be found after a crash either.
    return m.commit_lexical();
}

// ---------------------------------------------------------------- turns and sessions

Result<AddMessagesResult> MemoryManager::add_messages(const AddMessagesRequest& req, bool create_cube_if_missing) {
    auto& m = *impl_;
    KASTEN_RETURN_IF_ERROR(validate_identifier("cube id", req.cube_id));
    if (!req.session_id.empty()) KASTEN_RETURN_IF_ERROR(validate_identifier("session_id", req.session_id));
    if (req.messages.empty()) return Status::invalid_argument("messages must not be empty");
    if (req.messages.size() > static_cast<size_t>(kMaxMessagesPerAdd)) {
        return Status::invalid_argument("at most " + std::to_string(kMaxMessagesPerAdd) + " messages per add");
    }
    const TimeMs now = m.clock->now_ms();
    std::vector<store::TurnRecord> new_turns(req.messages.size());
    std::vector<retrieval::LexicalIndex::Analysis> analyses(req.messages.size());
    for (size_t i = 0; i < req.messages.size(); ++i) {
        const auto& msg = req.messages[i];
        std::string field = "messages[" + std::to_string(i) + "]";
        KASTEN_RETURN_IF_ERROR(validate_role(msg.role).with_context(field));
        KASTEN_RETURN_IF_ERROR(validate_text(field + ".content", msg.content, false));
    }
    // Embedding and text analysis are the expensive parts and need no lock: concurrent adds run them in parallel.
    for (size_t i = 0; i < req.messages.size(); ++i) {
        const auto& msg = req.messages[i];
        auto& t = new_turns[i];
        t.id = generate_id("t_");
        t.cube_id = req.cube_id;
        t.role = msg.role;
        t.content = msg.content;
        t.conv_time = msg.time ? *msg.time : (req.time ? *req.time : now);
        t.ingested_at = now;
        t.embedding = m.embedder->embed(t.content);
        t.embedder_id = m.embedder_id;
        analyses[i] = retrieval::LexicalIndex::analyze_text(t.content);
    }
    // The session's lexical key if the session is new (rebuilt under the lock when it already has turns).
    const bool new_has_user = has_user_turn(new_turns);
    std::vector<const retrieval::LexicalIndex::Analysis*> analysis_ptrs;
    for (size_t i = 0; i < new_turns.size(); ++i) {
        if (is_session_key(new_turns[i], new_has_user)) analysis_ptrs.push_back(&analyses[i]);
    }
    retrieval::LexicalIndex::Analysis session_key = retrieval::LexicalIndex::merge(analysis_ptrs);
    // The session's vector if the session is new (recomputed under the lock when it already has turns).
    std::vector<float> new_session_embedding = m.embedder->embed(session_embedding_text(new_turns));

    std::lock_guard<std::mutex> lock(m.mu);
    store::Transaction tx(*m.db);
    KASTEN_RETURN_IF_ERROR(tx.begin());
    auto cube = m.cubes->get(req.cube_id);
    if (!cube) {
        if (cube.status().code() != StatusCode::kNotFound) return cube.status();
        if (!create_cube_if_missing) return Status::not_found("cube '" + req.cube_id + "' does not exist");
        store::CubeRecord c;
        c.id = req.cube_id;
        c.name = req.cube_id;
        c.embedder_id = m.embedder_id;
        c.created_at = now;
        KASTEN_RETURN_IF_ERROR(m.cubes->create(c));
        KASTEN_RETURN_IF_ERROR(m.log_event(c.id, req.actor, "cube.create", "cube", c.id).status());
    } else {
        KASTEN_RETURN_IF_ERROR(m.check_cube_embedder(*cube));
        if (cube->embedder_id.empty()) KASTEN_RETURN_IF_ERROR(m.cubes->set_embedder(req.cube_id, m.embedder_id));
    }

    store::SessionRecord session;
    bool new_session = false;
    std::string external = req.session_id;
    if (!external.empty()) {
        auto s = m.sessions->get_by_external(req.cube_id, external);
        if (s) {
            session = std::move(s).value();
        } else if (s.status().code() == StatusCode::kNotFound) {
            new_session = true;
        } else {
            return s.status();
        }
    } else {
        new_session = true;
        external = generate_id("session-");
    }
    TimeMs first_time = new_turns.front().conv_time;
    for (const auto& t : new_turns) first_time = std::min(first_time, t.conv_time);
    if (new_session) {
        session.id = generate_id("s_");
        session.cube_id = req.cube_id;
        session.external_id = external;
        session.started_at = first_time;
        KASTEN_RETURN_IF_ERROR(m.sessions->insert(session));
    } else if (first_time < session.started_at) {
        session.started_at = first_time;
        KASTEN_RETURN_IF_ERROR(m.sessions->set_started_at(req.cube_id, session.id, first_time));
    }
    int next = 0;
    if (!new_session) {
        KASTEN_ASSIGN_OR_RETURN(next, m.turns->next_index(req.cube_id, session.id));
    }
    for (auto& t : new_turns) {
        t.session_id = session.id;
        t.index = next++;
        KASTEN_RETURN_IF_ERROR(m.turns->insert(t));
    }
    if (new_session) {
        session.embedding = std::move(new_session_embedding);
    } else {
        KASTEN_ASSIGN_OR_RETURN(auto all_turns, m.turns->list_by_session(req.cube_id, session.id));
        session.embedding = m.embedder->embed(session_embedding_text(all_turns));
        session_key = session_analysis(all_turns);
    }
    session.embedder_id = m.embedder_id;
    KASTEN_RETURN_IF_ERROR(m.sessions->update_embedding(req.cube_id, session.id, session.embedding, m.embedder_id));
    std::string job_id;
    if (m.options.note_builder) {
        KASTEN_ASSIGN_OR_RETURN(job_id, m.queue_note_job(req.cube_id, session.id, new_turns, now));
    }
    KASTEN_ASSIGN_OR_RETURN(std::int64_t seq, m.log_event(req.cube_id, req.actor, "turns.add", "session", external,
                                                          "{\"turns\":" + std::to_string(new_turns.size()) + "}"));
    KASTEN_RETURN_IF_ERROR(tx.commit());
    if (m.job_runner && !job_id.empty()) m.job_runner->wake();

    // The store is committed: the add is acknowledged from here on. Index failures are logged and repaired at the next
    // open (the event is past the lexical watermark).
    m.last_event_seq = seq;
    for (size_t i = 0; i < new_turns.size(); ++i) {
        const auto& t = new_turns[i];
        Status st = m.lexical_writer->enqueue({turn_attrs(t), std::move(analyses[i]), /*known_new=*/true, seq});
        if (st.is_ok()) st = m.vectors->upsert(turn_attrs(t), t.embedding);
        if (!st.is_ok()) log::error("indexing turn {}: {}", t.id, st.to_string());
    }
    Status st =
        m.lexical_writer->enqueue({session_attrs(session), std::move(session_key), /*known_new=*/new_session, seq});
    if (st.is_ok() && !session.embedding.empty()) st = m.vectors->upsert(session_attrs(session), session.embedding);
    if (!st.is_ok()) log::error("indexing session {}: {}", session.id, st.to_string());
    if (!m.lexical_writer->background()) {  // the background writer commits by itself
        st = m.maybe_commit_lexical(static_cast<std::int64_t>(new_turns.size()) + 1);
        if (!st.is_ok()) log::error("committing the lexical index: {}", st.to_string());
    }
    m.turns_added += static_cast<std::int64_t>(new_turns.size());

    AddMessagesResult result;
    result.session_id = external;
    result.job_id = job_id;
    for (const auto& t : new_turns) result.turn_ids.push_back(t.id);
    return result;
}

Result<std::vector<store::SessionRecord>> MemoryManager::list_sessions(const std::string& cube_id, int limit,
                                                                       int offset) {
    auto& m = *impl_;
    std::lock_guard<std::mutex> lock(m.mu);
    KASTEN_RETURN_IF_ERROR(m.cubes->get(cube_id).status().with_context("cube '" + cube_id + "'"));
    KASTEN_ASSIGN_OR_RETURN(auto list, m.sessions->list(cube_id, limit, offset));
    for (auto& s : list) s.embedding.clear();
    return list;
}

Result<SessionView> MemoryManager::get_session(const std::string& cube_id, const std::string& external_id) {
    auto& m = *impl_;
    std::lock_guard<std::mutex> lock(m.mu);
    KASTEN_ASSIGN_OR_RETURN(
        auto s, named(m.sessions->get_by_external(cube_id, external_id), in_cube("session", external_id, cube_id)));
    SessionView view;
    view.session = std::move(s);
    view.session.embedding.clear();
    KASTEN_ASSIGN_OR_RETURN(view.turns, m.turns->list_by_session(cube_id, view.session.id));
    for (auto& t : view.turns) t.embedding.clear();
    return view;
}

Status MemoryManager::delete_session(const std::string& cube_id, const std::string& external_id,
                                     const std::string& actor) {
    auto& m = *impl_;
    std::lock_guard<std::mutex> lock(m.mu);
    m.drain_lexical();  // queued upserts must land before this removes or rebuilds
    KASTEN_ASSIGN_OR_RETURN(
        auto s, named(m.sessions->get_by_external(cube_id, external_id), in_cube("session", external_id, cube_id)));
    KASTEN_ASSIGN_OR_RETURN(auto ts, m.turns->list_by_session(cube_id, s.id));
    store::Transaction tx(*m.db);
    KASTEN_RETURN_IF_ERROR(tx.begin());
    KASTEN_RETURN_IF_ERROR(m.sessions->remove(cube_id, s.id));
    KASTEN_ASSIGN_OR_RETURN(std::int64_t seq, m.log_event(cube_id, actor, "session.delete", "session", external_id));
    KASTEN_RETURN_IF_ERROR(tx.commit());
    m.last_event_seq = seq;
    for (const auto& t : ts) {
        KASTEN_RETURN_IF_ERROR(m.lexical->remove(cube_id, UnitType::kTurn, t.id));
        KASTEN_RETURN_IF_ERROR(m.vectors->remove(cube_id, UnitType::kTurn, t.id));
    }
    KASTEN_RETURN_IF_ERROR(m.lexical->remove(cube_id, UnitType::kSession, s.id));
    KASTEN_RETURN_IF_ERROR(m.vectors->remove(cube_id, UnitType::kSession, s.id));
    return m.commit_lexical();
}

Result<store::TurnRecord> MemoryManager::get_turn(const std::string& cube_id, const std::string& turn_id) {
    auto& m = *impl_;
    std::lock_guard<std::mutex> lock(m.mu);
    KASTEN_ASSIGN_OR_RETURN(auto t, named(m.turns->get(cube_id, turn_id), in_cube("turn", turn_id, cube_id)));
    t.embedding.clear();
    return t;
}

Result<std::vector<store::TurnRecord>> MemoryManager::list_turns(const std::string& cube_id, int limit, int offset) {
    auto& m = *impl_;
    std::lock_guard<std::mutex> lock(m.mu);
    KASTEN_RETURN_IF_ERROR(m.cubes->get(cube_id).status().with_context("cube '" + cube_id + "'"));
    KASTEN_ASSIGN_OR_RETURN(auto list, m.turns->list(cube_id, limit, offset));
    for (auto& t : list) t.embedding.clear();
    return list;
}

Status MemoryManager::delete_turn(const std::string& cube_id, const std::string& turn_id, const std::string& actor) {
    auto& m = *impl_;
    std::lock_guard<std::mutex> lock(m.mu);
    m.drain_lexical();  // queued upserts must land before this removes or rebuilds
    KASTEN_ASSIGN_OR_RETURN(auto t, named(m.turns->get(cube_id, turn_id), in_cube("turn", turn_id, cube_id)));
    KASTEN_ASSIGN_OR_RETURN(auto session, m.sessions->get(cube_id, t.session_id));
    store::Transaction tx(*m.db);
    KASTEN_RETURN_IF_ERROR(tx.begin());
    KASTEN_RETURN_IF_ERROR(m.turns->remove(cube_id, turn_id));
    KASTEN_ASSIGN_OR_RETURN(auto rest, m.turns->list_by_session(cube_id, session.id));
    if (!rest.empty()) {
        session.embedding = m.embedder->embed(session_embedding_text(rest));
        KASTEN_RETURN_IF_ERROR(m.sessions->update_embedding(cube_id, session.id, session.embedding, m.embedder_id));
    }
    KASTEN_ASSIGN_OR_RETURN(std::int64_t seq, m.log_event(cube_id, actor, "turn.delete", "turn", turn_id));
    KASTEN_RETURN_IF_ERROR(tx.commit());
    m.last_event_seq = seq;
    KASTEN_RETURN_IF_ERROR(m.lexical->remove(cube_id, UnitType::kTurn, turn_id));
    KASTEN_RETURN_IF_ERROR(m.vectors->remove(cube_id, UnitType::kTurn, turn_id));
    KASTEN_RETURN_IF_ERROR(m.index_session(session, session_analysis(rest)));
    return m.commit_lexical();
}

// ---------------------------------------------------------------- notes

Result<store::NoteRecord> MemoryManager::add_note(const std::string& cube_id, const NoteInput& in,
                                                  const std::string& actor) {
    auto& m = *impl_;
    KASTEN_RETURN_IF_ERROR(validate_identifier("cube id", cube_id));
    KASTEN_RETURN_IF_ERROR(validate_text("content", in.content, false));
    KASTEN_RETURN_IF_ERROR(validate_text("kind", in.kind, false));
    KASTEN_RETURN_IF_ERROR(validate_text("context", in.context, true));
    for (const auto& k : in.keywords) KASTEN_RETURN_IF_ERROR(validate_text("keywords", k, false));
    for (const auto& k : in.tags) KASTEN_RETURN_IF_ERROR(validate_text("tags", k, false));
    if (in.importance < 0 || in.importance > 1) return Status::invalid_argument("importance must be within [0, 1]");
    if (in.valid_from && in.valid_to && *in.valid_to < *in.valid_from) {
        return Status::invalid_argument("valid_to is before valid_from");
    }
    const TimeMs now = m.clock->now_ms();
    store::NoteRecord n;
    n.id = generate_id("n_");
    n.cube_id = cube_id;
    n.content = in.content;
    n.kind = in.kind;
    n.keywords = in.keywords;
    n.tags = in.tags;
    n.context = in.context;
    n.source_turn_ids = in.source_turn_ids;
    n.valid_from = in.valid_from;
    n.valid_to = in.valid_to;
    n.recorded_at = now;
    n.importance = in.importance;
    n.strength = 1.0;
    n.last_access = now;
    n.updated_at = now;
    n.content_hash = note_content_hash(n.content);
    n.embedding = m.embedder->embed(note_index_text(n));
    n.embedder_id = m.embedder_id;

    std::lock_guard<std::mutex> lock(m.mu);
    KASTEN_ASSIGN_OR_RETURN(auto cube, named(m.cubes->get(cube_id), cube_label(cube_id)));
    KASTEN_RETURN_IF_ERROR(m.check_cube_embedder(cube));
    if (!n.source_turn_ids.empty()) {
        KASTEN_ASSIGN_OR_RETURN(auto found, m.turns->get_many(cube_id, n.source_turn_ids));
        if (found.size() != std::set<std::string>(n.source_turn_ids.begin(), n.source_turn_ids.end()).size()) {
            return Status::invalid_argument("source_turn_ids: some turns do not exist in cube '" + cube_id + "'");
        }
    }
    store::Transaction tx(*m.db);
    KASTEN_RETURN_IF_ERROR(tx.begin());
    if (cube.embedder_id.empty()) KASTEN_RETURN_IF_ERROR(m.cubes->set_embedder(cube_id, m.embedder_id));
    KASTEN_RETURN_IF_ERROR(m.notes->insert(n, actor));
    KASTEN_ASSIGN_OR_RETURN(std::int64_t seq, m.log_event(cube_id, actor, "note.add", "note", n.id));
    KASTEN_RETURN_IF_ERROR(tx.commit());
    m.last_event_seq = seq;
    Status st = m.index_note(n);
    if (!st.is_ok()) log::error("indexing note {}: {}", n.id, st.to_string());
    st = m.maybe_commit_lexical(1);
    if (!st.is_ok()) log::error("committing the lexical index: {}", st.to_string());
    n.embedding.clear();
    return n;
}

Result<store::NoteRecord> MemoryManager::get_note(const std::string& cube_id, const std::string& note_id) {
    auto& m = *impl_;
    std::lock_guard<std::mutex> lock(m.mu);
    KASTEN_ASSIGN_OR_RETURN(auto n, named(m.notes->get(cube_id, note_id), in_cube("memory", note_id, cube_id)));
    n.embedding.clear();
    return n;
}

Result<std::vector<store::NoteRecord>> MemoryManager::list_notes(const std::string& cube_id,
                                                                 std::optional<store::NoteStatus> status, int limit,
                                                                 int offset) {
    auto& m = *impl_;
    std::lock_guard<std::mutex> lock(m.mu);
    KASTEN_RETURN_IF_ERROR(m.cubes->get(cube_id).status().with_context("cube '" + cube_id + "'"));
    KASTEN_ASSIGN_OR_RETURN(auto list, m.notes->list(cube_id, status, limit, offset));
    for (auto& n : list) n.embedding.clear();
    return list;
}

Result<store::NoteRecord> MemoryManager::patch_note(const std::string& cube_id, const std::string& note_id,
                                                    const NotePatch& p) {
    auto& m = *impl_;
    if (p.content) KASTEN_RETURN_IF_ERROR(validate_text("content", *p.content, false));
    if (p.kind) KASTEN_RETURN_IF_ERROR(validate_text("kind", *p.kind, false));
    if (p.context) KASTEN_RETURN_IF_ERROR(validate_text("context", *p.context, true));
    if (p.keywords)
        for (const auto& k : *p.keywords) KASTEN_RETURN_IF_ERROR(validate_text("keywords", k, false));
    if (p.tags)
        for (const auto& k : *p.tags) KASTEN_RETURN_IF_ERROR(validate_text("tags", k, false));
    if (p.importance && (*p.importance < 0 || *p.importance > 1)) {
        return Status::invalid_argument("importance must be within [0, 1]");
    }
    if (p.status && *p.status == store::NoteStatus::kDeleted) {
        return Status::invalid_argument("status 'deleted' is set by DELETE, not by a patch");
    }
    std::lock_guard<std::mutex> lock(m.mu);
    KASTEN_ASSIGN_OR_RETURN(auto cur, named(m.notes->get(cube_id, note_id), in_cube("memory", note_id, cube_id)));
    auto cube = m.cubes->get(cube_id);
    if (!cube) return cube.status();
    KASTEN_RETURN_IF_ERROR(m.check_cube_embedder(*cube));
    store::NoteRecord n = cur;
    if (p.content) n.content = *p.content;
    if (p.kind) n.kind = *p.kind;
    if (p.keywords) n.keywords = *p.keywords;
    if (p.tags) n.tags = *p.tags;
    if (p.context) n.context = *p.context;
    if (p.valid_from) n.valid_from = *p.valid_from;
    if (p.valid_to) n.valid_to = *p.valid_to;
    if (p.importance) n.importance = *p.importance;
    if (p.status) n.status = *p.status;
    if (n.valid_from && n.valid_to && *n.valid_to < *n.valid_from) {
        return Status::invalid_argument("valid_to is before valid_from");
    }
    const TimeMs now = m.clock->now_ms();
    n.updated_at = now;
    n.content_hash = note_content_hash(n.content);
    n.embedding = m.embedder->embed(note_index_text(n));
    n.embedder_id = m.embedder_id;
    store::Transaction tx(*m.db);
    KASTEN_RETURN_IF_ERROR(tx.begin());
    KASTEN_RETURN_IF_ERROR(m.notes->update(n, p.reason, p.actor, now));
    KASTEN_RETURN_IF_ERROR(m.notes->set_embedding(cube_id, note_id, n.embedding, m.embedder_id));
    KASTEN_ASSIGN_OR_RETURN(std::int64_t seq, m.log_event(cube_id, p.actor, "note.patch", "note", note_id));
    KASTEN_RETURN_IF_ERROR(tx.commit());
    m.last_event_seq = seq;
    KASTEN_ASSIGN_OR_RETURN(auto stored, m.notes->get(cube_id, note_id));
    Status st = m.index_note(stored);
    if (!st.is_ok()) log::error("indexing note {}: {}", note_id, st.to_string());
    st = m.maybe_commit_lexical(1);
    if (!st.is_ok()) log::error("committing the lexical index: {}", st.to_string());
    stored.embedding.clear();
    return stored;
}

Status MemoryManager::delete_note(const std::string& cube_id, const std::string& note_id, const std::string& actor) {
    auto& m = *impl_;
    std::lock_guard<std::mutex> lock(m.mu);
    store::Transaction tx(*m.db);
    KASTEN_RETURN_IF_ERROR(tx.begin());
    Status st = m.notes->remove(cube_id, note_id);
    if (st.code() == StatusCode::kNotFound) {
        return Status::not_found("memory '" + note_id + "' does not exist in cube '" + cube_id + "'");
    }
    KASTEN_RETURN_IF_ERROR(st);
    KASTEN_ASSIGN_OR_RETURN(std::int64_t seq, m.log_event(cube_id, actor, "note.delete", "note", note_id));
    KASTEN_RETURN_IF_ERROR(tx.commit());
    m.last_event_seq = seq;
    KASTEN_RETURN_IF_ERROR(m.lexical->remove(cube_id, UnitType::kNote, note_id));
    KASTEN_RETURN_IF_ERROR(m.vectors->remove(cube_id, UnitType::kNote, note_id));
    return m.commit_lexical();
}

Result<std::vector<store::NoteVersionRecord>> MemoryManager::note_history(const std::string& cube_id,
                                                                          const std::string& note_id) {
    auto& m = *impl_;
    std::lock_guard<std::mutex> lock(m.mu);
    KASTEN_ASSIGN_OR_RETURN(auto n, named(m.notes->get(cube_id, note_id), in_cube("memory", note_id, cube_id)));
    return m.notes->versions(cube_id, note_id);
}

Result<std::vector<store::LinkRecord>> MemoryManager::note_links(const std::string& cube_id,
                                                                 const std::string& note_id) {
    auto& m = *impl_;
    std::lock_guard<std::mutex> lock(m.mu);
    KASTEN_ASSIGN_OR_RETURN(auto n, named(m.notes->get(cube_id, note_id), in_cube("memory", note_id, cube_id)));
    return m.links->list_for_note(cube_id, note_id);
}

// ---------------------------------------------------------------- search

Result<std::vector<SearchHit>> MemoryManager::search(const SearchRequest& req) {
    auto& m = *impl_;
    KASTEN_RETURN_IF_ERROR(validate_identifier("cube id", req.cube_id));
    KASTEN_RETURN_IF_ERROR(validate_text("query", req.query, false));
    if (req.top_k < 1) return Status::invalid_argument("top_k must be at least 1");
    if (req.role) KASTEN_RETURN_IF_ERROR(validate_role(*req.role));
    if (req.time_from && req.time_to && *req.time_to < *req.time_from) {
        return Status::invalid_argument("time_to is before time_from");
    }
    m.searches++;
    SearchFilter filter;
    filter.cube_id = req.cube_id;
    filter.type = unit_of(req.granularity);
    filter.time_from = req.time_from;
    filter.time_to = req.time_to;
    if (req.granularity == Granularity::kTurn) filter.role = req.role;
    {
        std::lock_guard<std::mutex> lock(m.mu);
        KASTEN_ASSIGN_OR_RETURN(auto cube, named(m.cubes->get(req.cube_id), cube_label(req.cube_id)));
        if (req.retriever != Retriever::kLexical && m.foreign_vector_cubes.count(req.cube_id)) {
            return m.check_cube_embedder(cube);
        }
        if (req.session_id && req.granularity != Granularity::kNote) {
            auto s = m.sessions->get_by_external(req.cube_id, *req.session_id);
            if (!s) {
                if (s.status().code() == StatusCode::kNotFound) return std::vector<SearchHit>{};
                return s.status();
            }
            filter.session_id = s->id;
        }
    }
    // The candidate pool is wide: both lists are unioned before fusion, and notes are filtered by status afterwards.
    const int pool = std::max(100, req.top_k * 4);
    std::vector<float> query_vector;
    if (req.retriever != Retriever::kLexical) query_vector = m.embedder->embed(req.query);
    const std::vector<float>* qv = query_vector.empty() ? nullptr : &query_vector;
    KASTEN_ASSIGN_OR_RETURN(std::vector<retrieval::FusedHit> fused,
                            m.candidates(req.query, qv, filter, req.retriever, pool));
    const std::vector<TimeWindow> windows =
        m.options.temporal_weight > 0 ? query_time_windows(req.query, req.query_time.value_or(m.clock->now_ms()))
                                      : std::vector<TimeWindow>{};
    KASTEN_RETURN_IF_ERROR(m.boost_in_windows(fused, req.query, qv, filter, req.retriever, pool, windows));
    if (req.granularity == Granularity::kNote) return m.note_hits(req, std::move(fused));

    // Notes as extra keys: a note's score credits its source turns (turn granularity) or their sessions.
    if (req.note_keys && m.options.note_key_weight > 0) {
        SearchFilter note_filter;
        note_filter.cube_id = req.cube_id;
        note_filter.type = UnitType::kNote;
        KASTEN_ASSIGN_OR_RETURN(auto note_fused, m.candidates(req.query, qv, note_filter, req.retriever, pool));
        KASTEN_RETURN_IF_ERROR(
            m.boost_in_windows(note_fused, req.query, qv, note_filter, req.retriever, pool, windows));
        std::unordered_map<std::string, double> credit;
        if (!note_fused.empty()) {
            std::lock_guard<std::mutex> lock(m.mu);
            for (const auto& h : note_fused) {
                auto n = m.notes->get(req.cube_id, h.id);
                if (!n || !note_visible(*n, req.as_of)) continue;
                for (const auto& turn_id : n->source_turn_ids) {
                    std::string unit = turn_id;
                    if (req.granularity == Granularity::kSession) {
                        auto t = m.turns->get(req.cube_id, turn_id);
                        if (!t) continue;
                        unit = t->session_id;
                    }
                    double& c = credit[unit];
                    c = std::max(c, h.score);
                }
            }
        }
        if (!credit.empty()) {
            std::unordered_map<std::string, size_t> position;
            for (size_t i = 0; i < fused.size(); ++i) position[fused[i].id] = i;
            // A session's notes expand its key (LongMemEval's fact-augmented keys): their best score adds, weighted.
            // A turn's notes are alternative keys: the turn scores by its best key, its own text or a note. Most
            // turns have no note, so adding would favour the turns that happen to have one.
            const bool expand = req.granularity == Granularity::kSession;
            for (const auto& [unit, c] : credit) {
                const double note_score = expand ? m.options.note_key_weight * c : c;
                auto it = position.find(unit);
                if (it != position.end()) {
                    double& score = fused[it->second].score;
                    score = expand ? score + note_score : std::max(score, note_score);
                } else {
                    retrieval::FusedHit h;
                    h.id = unit;
                    h.score = note_score;
                    fused.push_back(std::move(h));
                }
            }
            std::stable_sort(
                fused.begin(), fused.end(),
                [](const retrieval::FusedHit& x, const retrieval::FusedHit& y) { return x.score > y.score; });
        }
    }

    std::vector<SearchHit> hits;
    std::lock_guard<std::mutex> lock(m.mu);
    for (const auto& f : fused) {
        if (static_cast<int>(hits.size()) >= req.top_k) break;
        SearchHit hit;
        hit.granularity = req.granularity;
        hit.score = f.score;
        hit.lexical_rank = f.lexical_rank;
        hit.vector_rank = f.vector_rank;
        if (req.granularity == Granularity::kTurn) {
            auto t = m.turns->get(req.cube_id, f.id);
            if (!t) continue;  // deleted between index and store read
            // Units credited by notes did not pass the index's filter: apply it here.
            if (filter.role && t->role != *filter.role) continue;
            if (filter.session_id && t->session_id != *filter.session_id) continue;
            if ((filter.time_from && t->conv_time < *filter.time_from) ||
                (filter.time_to && t->conv_time > *filter.time_to)) {
                continue;
            }
            auto s = m.sessions->get(req.cube_id, t->session_id);
            hit.id = t->id;
            hit.text = t->content;
            hit.time = t->conv_time;
            hit.role = t->role;
            hit.session_id = s ? s->external_id : "";
            hit.turn_ids = {t->id};
        } else {
            auto s = m.sessions->get(req.cube_id, f.id);
            if (!s) continue;
            if (filter.session_id && s->id != *filter.session_id) continue;
            if ((filter.time_from && s->started_at < *filter.time_from) ||
                (filter.time_to && s->started_at > *filter.time_to)) {
                continue;
            }
            auto ts = m.turns->list_by_session(req.cube_id, s->id);
            if (!ts) return ts.status();
            hit.id = s->external_id;
            hit.session_id = s->external_id;
            hit.text = session_text(*ts);
            hit.time = s->started_at;
            for (const auto& t : *ts) hit.turn_ids.push_back(t.id);
        }
        hits.push_back(std::move(hit));
    }
    return hits;
}

// ---------------------------------------------------------------- jobs

Result<store::JobRecord> MemoryManager::get_job(const std::string& job_id) {
    auto& m = *impl_;
    std::lock_guard<std::mutex> lock(m.mu);
    return named(m.jobs->get(job_id), "job '" + job_id + "'");
}

Result<std::vector<store::JobRecord>> MemoryManager::list_jobs(const std::string& cube_id, int limit, int offset) {
    auto& m = *impl_;
    std::lock_guard<std::mutex> lock(m.mu);
    KASTEN_RETURN_IF_ERROR(named(m.cubes->get(cube_id), cube_label(cube_id)).status());
    return m.jobs->list_for_cube(cube_id, limit, offset);
}

Result<int> MemoryManager::run_jobs(int max_jobs) {
    int ran = 0;
    while (max_jobs < 0 || ran < max_jobs) {
        KASTEN_ASSIGN_OR_RETURN(JobRunner::Outcome outcome, impl_->run_one_job());
        if (outcome == JobRunner::Outcome::kIdle) break;
        ++ran;
    }
    return ran;
}

Status MemoryManager::wait_for_jobs(std::int64_t timeout_ms) {
    if (!impl_->job_runner) return Status::ok();
    if (!impl_->job_runner->wait_idle(timeout_ms)) {
        return Status::resource_exhausted("note jobs still running after " + std::to_string(timeout_ms) + " ms");
    }
    return Status::ok();
}

// ---------------------------------------------------------------- export / import

Status MemoryManager::export_cube(const std::string& cube_id, std::ostream& out) {
    auto& m = *impl_;
    CubeArchive a;
    {
        std::lock_guard<std::mutex> lock(m.mu);
        KASTEN_ASSIGN_OR_RETURN(auto c, named(m.cubes->get(cube_id), cube_label(cube_id)));
        a.cube = std::move(c);
        KASTEN_ASSIGN_OR_RETURN(a.sessions, m.sessions->list(cube_id, -1, 0));
        for (const auto& s : a.sessions) {
            KASTEN_ASSIGN_OR_RETURN(auto ts, m.turns->list_by_session(cube_id, s.id));
            for (auto& t : ts) a.turns.push_back(std::move(t));
        }
        KASTEN_RETURN_IF_ERROR(m.notes->for_each(cube_id, [&](const store::NoteRecord& n) -> Status {
            a.notes.push_back(n);
            return Status::ok();
        }));
        std::sort(a.notes.begin(), a.notes.end(), [](const auto& x, const auto& y) {
            return std::tie(x.recorded_at, x.id) < std::tie(y.recorded_at, y.id);
        });
        for (const auto& n : a.notes) {
            KASTEN_ASSIGN_OR_RETURN(auto vs, m.notes->versions(cube_id, n.id));
            for (auto& v : vs) a.note_versions.push_back(std::move(v));
        }
        KASTEN_ASSIGN_OR_RETURN(a.links, m.links->list(cube_id));
    }
    return write_cube_archive(a, out);
}

Result<ImportSummary> MemoryManager::import_cube(std::istream& in, const std::optional<std::string>& target_cube_id,
                                                 const std::string& actor) {
    auto& m = *impl_;
    KASTEN_ASSIGN_OR_RETURN(CubeArchive a, read_cube_archive(in));
    if (target_cube_id) a.cube.id = *target_cube_id;
    KASTEN_RETURN_IF_ERROR(validate_identifier("cube id", a.cube.id));
    // Embeddings are derived: recompute them with the active embedder.
    std::map<std::string, std::vector<const store::TurnRecord*>> by_session;
    for (auto& t : a.turns) {
        t.cube_id = a.cube.id;
        t.embedding = m.embedder->embed(t.content);
        t.embedder_id = m.embedder_id;
    }
    for (const auto& t : a.turns) by_session[t.session_id].push_back(&t);
    std::map<std::string, retrieval::LexicalIndex::Analysis> session_analyses;
    for (auto& s : a.sessions) {
        s.cube_id = a.cube.id;
        std::vector<store::TurnRecord> ts;
        for (const auto* t : by_session[s.id]) ts.push_back(*t);
        std::sort(ts.begin(), ts.end(), [](const auto& x, const auto& y) { return x.index < y.index; });
        session_analyses[s.id] = session_analysis(ts);
        s.embedding = m.embedder->embed(session_embedding_text(ts));
        s.embedder_id = m.embedder_id;
    }
    for (auto& n : a.notes) {
        n.cube_id = a.cube.id;
        n.embedding = m.embedder->embed(note_index_text(n));
        n.embedder_id = m.embedder_id;
    }
    for (auto& l : a.links) l.cube_id = a.cube.id;
    a.cube.embedder_id = m.embedder_id;

    std::lock_guard<std::mutex> lock(m.mu);
    store::Transaction tx(*m.db);
    KASTEN_RETURN_IF_ERROR(tx.begin());
    Status st = m.cubes->create(a.cube);
    if (st.code() == StatusCode::kAlreadyExists) {
        return Status::already_exists("cube '" + a.cube.id + "' already exists; import into a new cube id");
    }
    KASTEN_RETURN_IF_ERROR(st);
    auto clash = [](Status s, const std::string& what) {
        if (s.code() == StatusCode::kAlreadyExists) {
            return Status::already_exists(what +
                                          " already exists in this store (ids are kept on import; delete the "
                                          "original cube or import elsewhere)");
        }
        return s;
    };
    for (const auto& s : a.sessions) KASTEN_RETURN_IF_ERROR(clash(m.sessions->insert(s), "session " + s.id));
    for (const auto& t : a.turns) KASTEN_RETURN_IF_ERROR(clash(m.turns->insert(t), "turn " + t.id));
    for (const auto& n : a.notes) KASTEN_RETURN_IF_ERROR(clash(m.notes->insert(n, actor), "note " + n.id));
    // insert() wrote a "create" row for each note's current version; the archive's history replaces it exactly.
    for (const auto& v : a.note_versions) KASTEN_RETURN_IF_ERROR(m.notes->insert_version(v, a.cube.id));
    for (const auto& l : a.links) KASTEN_RETURN_IF_ERROR(m.links->upsert(l));
    KASTEN_ASSIGN_OR_RETURN(std::int64_t seq, m.log_event(a.cube.id, actor, "cube.import", "cube", a.cube.id));
    KASTEN_RETURN_IF_ERROR(tx.commit());
    m.last_event_seq = seq;
    for (const auto& t : a.turns) KASTEN_RETURN_IF_ERROR(m.index_turn(t));
    for (const auto& s : a.sessions) KASTEN_RETURN_IF_ERROR(m.index_session(s, session_analyses[s.id]));
    for (const auto& n : a.notes) KASTEN_RETURN_IF_ERROR(m.index_note(n));
    KASTEN_RETURN_IF_ERROR(m.commit_lexical());
    ImportSummary sum;
    sum.cube_id = a.cube.id;
    sum.sessions = static_cast<std::int64_t>(a.sessions.size());
    sum.turns = static_cast<std::int64_t>(a.turns.size());
    sum.notes = static_cast<std::int64_t>(a.notes.size());
    sum.note_versions = static_cast<std::int64_t>(a.note_versions.size());
    sum.links = static_cast<std::int64_t>(a.links.size());
    return sum;
}

// ---------------------------------------------------------------- maintenance

Result<ReindexSummary> MemoryManager::reindex(const std::string& cube_id, const ProgressFn& progress) {
    auto& m = *impl_;
    std::lock_guard<std::mutex> lock(m.mu);
    m.drain_lexical();  // queued upserts must land before this removes or rebuilds
    std::vector<store::CubeRecord> targets;
    if (cube_id.empty()) {
        KASTEN_ASSIGN_OR_RETURN(targets, m.cubes->list());
    } else {
        KASTEN_ASSIGN_OR_RETURN(auto c, named(m.cubes->get(cube_id), cube_label(cube_id)));
        targets.push_back(std::move(c));
    }
    std::int64_t total = 0;
    for (const auto& c : targets) {
        KASTEN_ASSIGN_OR_RETURN(auto stats, m.cubes->stats(c.id));
        total += stats.turns + stats.sessions + stats.notes;
    }
    ReindexSummary sum;
    std::int64_t done = 0;
    auto tick = [&] {
        ++done;
        if (progress && (done % 1000 == 0 || done == total)) progress(done, total);
    };
    for (const auto& c : targets) {
        store::Transaction tx(*m.db);
        KASTEN_RETURN_IF_ERROR(tx.begin());
        // Re-embed whatever was embedded by another embedder (or not at all).
        std::vector<store::TurnRecord> stale_turns;
        KASTEN_RETURN_IF_ERROR(m.turns->for_each(c.id, [&](const store::TurnRecord& t) -> Status {
            if (t.embedding.empty() || t.embedder_id != m.embedder_id) stale_turns.push_back(t);
            return Status::ok();
        }));
        for (auto& t : stale_turns) {
            t.embedding = m.embedder->embed(t.content);
            KASTEN_RETURN_IF_ERROR(m.turns->set_embedding(c.id, t.id, t.embedding, m.embedder_id));
            ++sum.reembedded;
        }
        KASTEN_ASSIGN_OR_RETURN(auto ss, m.sessions->list(c.id, -1, 0));
        for (auto& s : ss) {
            if (!s.embedding.empty() && s.embedder_id == m.embedder_id) continue;
            KASTEN_ASSIGN_OR_RETURN(auto ts, m.turns->list_by_session(c.id, s.id));
            s.embedding = m.embedder->embed(session_embedding_text(ts));
            KASTEN_RETURN_IF_ERROR(m.sessions->update_embedding(c.id, s.id, s.embedding, m.embedder_id));
            ++sum.reembedded;
        }
        std::vector<store::NoteRecord> stale_notes;
        KASTEN_RETURN_IF_ERROR(m.notes->for_each(c.id, [&](const store::NoteRecord& n) -> Status {
            if (n.embedding.empty() || n.embedder_id != m.embedder_id) stale_notes.push_back(n);
            return Status::ok();
        }));
        for (auto& n : stale_notes) {
            n.embedding = m.embedder->embed(note_index_text(n));
            KASTEN_RETURN_IF_ERROR(m.notes->set_embedding(c.id, n.id, n.embedding, m.embedder_id));
            ++sum.reembedded;
        }
        KASTEN_RETURN_IF_ERROR(m.cubes->set_embedder(c.id, m.embedder_id));
        KASTEN_ASSIGN_OR_RETURN(std::int64_t seq, m.log_event(c.id, "maintenance", "cube.reindex", "cube", c.id));
        KASTEN_RETURN_IF_ERROR(tx.commit());
        m.last_event_seq = seq;
        store::CubeRecord updated = c;
        updated.embedder_id = m.embedder_id;
        std::int64_t units = 0;
        KASTEN_RETURN_IF_ERROR(m.rebuild_lexical(c.id, &units));
        KASTEN_RETURN_IF_ERROR(m.load_vectors(updated));
        for (std::int64_t i = 0; i < units; ++i) tick();
        sum.units += units;
        ++sum.cubes;
    }
    KASTEN_RETURN_IF_ERROR(m.commit_lexical());
    return sum;
}

Result<ConsistencyReport> MemoryManager::check_consistency() {
    std::lock_guard<std::mutex> lock(impl_->mu);
    impl_->drain_lexical();
    return impl_->consistency();
}

Status MemoryManager::flush() {
    std::lock_guard<std::mutex> lock(impl_->mu);
    return impl_->commit_lexical();
}

std::string MemoryManager::embedder_id() const {
    return impl_->embedder_id;
}

ManagerStats MemoryManager::stats() const {
    auto& m = *impl_;
    ManagerStats s;
    s.turns_added = m.turns_added.load();
    s.searches = m.searches.load();
    s.note_jobs_done = m.jobs_done.load();
    s.notes_built = m.notes_built.load();
    auto lexical_units = m.lexical->total_documents();
    if (lexical_units) s.lexical_units = static_cast<std::int64_t>(*lexical_units);
    s.vector_units = static_cast<std::int64_t>(m.vectors->total_size());
    std::lock_guard<std::mutex> lock(m.mu);
    auto cubes = m.cubes->count();
    if (cubes) s.cubes = *cubes;
    return s;
}

}  // namespace kasten::memory
