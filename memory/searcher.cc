#include "memory/searcher.h"

#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "memory/context_credit.h"
#include "memory/input_validation.h"
#include "memory/memory_strength.h"
#include "memory/note_text.h"
#include "memory/query_decomposer.h"
#include "memory/session_key.h"
#include "retrieval/id_positions.h"

namespace kasten::memory {

using retrieval::ScoredId;
using retrieval::SearchFilter;
using retrieval::UnitType;

namespace {

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

// Searches read the committed index when the cube has nothing uncommitted: they then never wait for the writer.
constexpr auto kRead = retrieval::LexicalIndex::ReadFrom::kCommittedIfClean;

// How far (in turns of the same session) a turn lends context: the turns right before and after it.
constexpr int kContextRadius = 1;

void sort_by_score(std::vector<retrieval::FusedHit>& fused) {
    std::stable_sort(fused.begin(), fused.end(),
                     [](const retrieval::FusedHit& x, const retrieval::FusedHit& y) { return x.score > y.score; });
}

// Whether a listed hit of calibrated `score` passes the request's min_score (always, when it has none or 0).
bool passes_min_score(const SearchRequest& req, double score) {
    return !req.min_score || *req.min_score <= 0 || (score > 0 && score >= *req.min_score);
}

}  // namespace

Result<ScoreCalibrator> Searcher::calibrator_for(const SearchRequest& req, UnitType type,
                                                 const std::vector<float>& query_vector) {
    std::vector<std::string> terms;
    retrieval::LexicalIndex::TermCounts counts;
    if (req.retriever != Retriever::kVector) {
        terms = retrieval::LexicalIndex::analyze(req.query);
        if (!terms.empty()) {
            KASTEN_ASSIGN_OR_RETURN(counts, ctx_.index->lexical().term_counts(req.cube_id, type, terms, kRead));
        }
    }
    const double background = query_vector.empty() ? 0 : background_.of(query_vector);
    return ScoreCalibrator(std::move(terms), counts.frequencies, counts.documents, background, req.retriever,
                           ctx_.options.lexical_weight, ctx_.options.vector_weight);
}

Result<double> Searcher::calibrated(const ScoreCalibrator& calibrator, const std::vector<float>& query_vector,
                                    const std::string& cube_id, UnitType type, const std::string& id,
                                    const retrieval::LexicalIndex::Analysis& analysis) {
    std::optional<double> cosine;
    if (calibrator.uses_cosine() && !query_vector.empty()) {
        KASTEN_ASSIGN_OR_RETURN(auto cosines, ctx_.index->vectors().similarities(query_vector, cube_id, type, {id}));
        cosine = cosines.front();
    }
    return calibrator.score(analysis, cosine);
}

namespace {

template <typename Note>
bool visible(const Note& n, const std::optional<TimeMs>& as_of) {
    if (n.status == store::NoteStatus::kDeleted) return false;
    if (!as_of) return n.status == store::NoteStatus::kActive;
    if (n.status == store::NoteStatus::kArchived) return false;
    if (n.valid_from.value_or(n.recorded_at) > *as_of) return false;
    if (n.valid_to && *n.valid_to <= *as_of) return false;
    return true;
}

}  // namespace

bool note_visible(const store::NoteRecord& n, const std::optional<TimeMs>& as_of) {
    return visible(n, as_of);
}

bool note_visible(const store::NoteSourcesRecord& n, const std::optional<TimeMs>& as_of) {
    return visible(n, as_of);
}

Status Searcher::both_lists(const ListFn& lexical, const ListFn& vector, std::vector<ScoredId>& lex,
                            std::vector<ScoredId>& vec) {
    Status lex_status, vec_status;
    auto run = [](const ListFn& fn, std::vector<ScoredId>& out, Status& status) {
        if (!fn) return;
        auto r = fn();
        status = r.status();
        if (r) out = std::move(r).value();
    };
    auto run_lexical = [&] { run(lexical, lex, lex_status); };
    auto run_vector = [&] { run(vector, vec, vec_status); };
    if (lexical && vector && ctx_.helper && ctx_.background_adds_running.load(std::memory_order_relaxed) == 0) {
        ctx_.helper->run_both(run_lexical, run_vector);
    } else {
        run_lexical();
        run_vector();
    }
    KASTEN_RETURN_IF_ERROR(lex_status);
    return vec_status;
}

Result<std::vector<retrieval::FusedHit>> Searcher::candidates(std::string_view text,
                                                              const std::vector<float>* query_vector,
                                                              const SearchFilter& filter, Retriever retriever,
                                                              int pool) {
    std::vector<float> embedded;
    if (retriever != Retriever::kLexical && !query_vector) {
        embedded = ctx_.embedder->embed(text);
        query_vector = &embedded;
    }
    std::vector<ScoredId> lex, vec;
    KASTEN_RETURN_IF_ERROR(both_lists(
        retriever == Retriever::kVector ? ListFn() : [&]() -> Result<std::vector<ScoredId>> {
            ctx_.index->read_barrier(filter.cube_id);  // read your writes: every acknowledged add is searchable
            return ctx_.index->lexical().search(text, filter, pool, kRead);
        },
        retriever == Retriever::kLexical ? ListFn() : [&]() -> Result<std::vector<ScoredId>> {
            return ctx_.index->vectors().search(*query_vector, filter, pool);
        },
        lex, vec));
    if (retriever == Retriever::kHybrid) return fuse(lex, vec, pool);
    std::vector<retrieval::FusedHit> fused;
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

Result<std::vector<retrieval::FusedHit>> Searcher::hybrid_candidates(const std::vector<std::string>& terms,
                                                                     const std::vector<float>& query_vector,
                                                                     const SearchFilter& filter, int pool) {
    std::vector<ScoredId> lex, vec;
    KASTEN_RETURN_IF_ERROR(both_lists(
        [&]() -> Result<std::vector<ScoredId>> {
            ctx_.index->read_barrier(filter.cube_id);
            return ctx_.index->lexical().search_terms(terms, filter, pool, kRead);
        },
        [&]() -> Result<std::vector<ScoredId>> { return ctx_.index->vectors().search(query_vector, filter, pool); },
        lex, vec));
    return fuse(lex, vec, pool);
}

Result<std::vector<retrieval::FusedHit>> Searcher::fuse(const std::vector<ScoredId>& lex,
                                                        const std::vector<ScoredId>& vec, int pool) const {
    const MemoryOptions& o = ctx_.options;
    if (o.fusion == Fusion::kMinMax) return retrieval::fuse_weighted(lex, vec, pool, o.lexical_weight, o.vector_weight);
    return retrieval::fuse_reciprocal_rank(lex, vec, pool, o.rrf_k, o.lexical_weight, o.vector_weight);
}

// Time-aware ranking: units inside a time window the query names get options.temporal_weight × the best score added;
// in-window units the query's candidate pool missed join the list. `fused` stays sorted by score.
Status Searcher::boost_in_windows(std::vector<retrieval::FusedHit>& fused, std::string_view query,
                                  const std::vector<float>* query_vector, const SearchFilter& filter,
                                  Retriever retriever, int pool, const std::vector<TimeWindow>& windows) {
    if (windows.empty() || ctx_.options.temporal_weight <= 0) return Status::ok();
    double top = 0;
    for (const auto& f : fused) top = std::max(top, f.score);
    if (top <= 0) top = 1;
    std::unordered_map<std::string, double> inside;  // id -> the largest weight of a window holding it
    for (const auto& w : windows) {
        SearchFilter f = filter;
        f.time_from = filter.time_from ? std::max(*filter.time_from, w.from) : w.from;
        f.time_to = filter.time_to ? std::min(*filter.time_to, w.to) : w.to;
        if (*f.time_from > *f.time_to) continue;
        KASTEN_ASSIGN_OR_RETURN(auto hits, candidates(query, query_vector, f, retriever, pool));
        for (const auto& h : hits) inside[h.id] = std::max(inside[h.id], w.weight);
    }
    if (inside.empty()) return Status::ok();
    const double bonus = ctx_.options.temporal_weight * top;
    for (auto& f : fused) {
        auto it = inside.find(f.id);
        if (it == inside.end()) continue;
        f.score += bonus * it->second;
        inside.erase(it);
    }
    for (const auto& [id, weight] : std::map<std::string, double>(inside.begin(), inside.end())) {
        retrieval::FusedHit h;
        h.id = id;
        h.score = bonus * weight;
        fused.push_back(std::move(h));
    }
    sort_by_score(fused);
    return Status::ok();
}

Status Searcher::add_subqueries(const SearchRequest& req, const SearchFilter& filter, int pool,
                                std::vector<retrieval::FusedHit>& fused) {
    const double weight = ctx_.options.subquery_weight;
    if (weight <= 0) return Status::ok();
    const std::vector<std::string> parts = decompose_query(req.query);
    Credit credit;
    for (const std::string& part : parts) {
        std::vector<float> v;
        if (req.retriever != Retriever::kLexical) v = ctx_.embedder->embed(part);
        KASTEN_ASSIGN_OR_RETURN(auto hits, candidates(part, v.empty() ? nullptr : &v, filter, req.retriever, pool));
        double top = 0;
        for (const auto& h : hits) top = std::max(top, h.score);
        if (top <= 0) continue;
        for (const auto& h : hits) credit[h.id] += h.score / top;
    }
    add_credit(fused, credit, weight);
    return Status::ok();
}

Status Searcher::lend_context(const SearchRequest& req, const SearchFilter& filter,
                              const std::vector<float>* query_vector, int pool, const std::vector<TimeWindow>& windows,
                              std::vector<retrieval::FusedHit>& fused) {
    if (!req.lend_context) return Status::ok();
    const MemoryOptions& o = ctx_.options;
    // The other granularity's candidates, under the same cube, session and time filters.
    auto other = [&](UnitType type) -> Result<std::vector<retrieval::FusedHit>> {
        SearchFilter f;
        f.cube_id = filter.cube_id;
        f.type = type;
        f.session_id = filter.session_id;
        f.time_from = filter.time_from;
        f.time_to = filter.time_to;
        KASTEN_ASSIGN_OR_RETURN(auto hits, candidates(req.query, query_vector, f, req.retriever, pool));
        KASTEN_RETURN_IF_ERROR(boost_in_windows(hits, req.query, query_vector, f, req.retriever, pool, windows));
        return hits;
    };
    auto ids_of = [](const std::vector<retrieval::FusedHit>& hits, int limit) {
        std::vector<std::string> ids;
        for (const auto& h : hits) {
            if (static_cast<int>(ids.size()) >= limit) break;
            ids.push_back(h.id);
        }
        return ids;
    };
    if (req.granularity == Granularity::kSession) {
        if (o.turn_rollup_weight <= 0) return Status::ok();
        KASTEN_ASSIGN_OR_RETURN(auto turns, other(UnitType::kTurn));
        const auto places = ctx_.index->places().near(req.cube_id, ids_of(turns, pool), 0);
        add_credit(fused, rollup_credit(turns, places), o.turn_rollup_weight);
        return Status::ok();
    }
    if (req.granularity != Granularity::kTurn) return Status::ok();
    // Under a role filter a turn's neighbours (the other speaker's turns, in a conversation that alternates) are
    // outside the searched set: they lend nothing.
    const double neighbour_weight = filter.role ? 0.0 : o.turn_context_weight;
    if (neighbour_weight <= 0 && o.session_context_weight <= 0) return Status::ok();
    if (o.session_context_weight <= 0) {
        // Neighbours alone (the default): credit straight from the index's places, no id or session copied.
        std::vector<std::string_view> listed;
        listed.reserve(std::min(fused.size(), static_cast<std::size_t>(std::max(pool, 0))));
        for (const auto& h : fused) {
            if (static_cast<int>(listed.size()) >= pool) break;
            listed.push_back(h.id);
        }
        ctx_.index->places().visit_near(
            req.cube_id, listed, kContextRadius, [&](std::span<const TurnPlaceIndex::PlaceView> places) {
                // (`listed` views fused's ids: unused once the places are found)
                add_credit(fused, neighbour_credit(fused, places, kContextRadius), neighbour_weight);
            });
        return Status::ok();
    }
    const std::vector<std::string> ids = ids_of(fused, pool);
    // One lookup of the listed turns serves both: their neighbourhoods, and (the listed turns themselves) their
    // sessions.
    const std::vector<store::TurnPlace> places =
        ctx_.index->places().near(req.cube_id, ids, neighbour_weight > 0 ? kContextRadius : 0);
    Credit from_session;
    if (o.session_context_weight > 0) {
        KASTEN_ASSIGN_OR_RETURN(auto sessions, other(UnitType::kSession));
        if (neighbour_weight > 0) {
            const std::unordered_set<std::string_view> listed(ids.begin(), ids.end());
            std::vector<store::TurnPlace> own;
            own.reserve(ids.size());
            for (const auto& p : places) {
                if (listed.count(p.id) != 0) own.push_back(p);
            }
            from_session = session_credit(sessions, own);
        } else {
            from_session = session_credit(sessions, places);
        }
    }
    Credit from_neighbours;
    if (neighbour_weight > 0) from_neighbours = neighbour_credit(fused, places, kContextRadius);
    add_credit(fused, from_neighbours, neighbour_weight);
    add_credit(fused, from_session, o.session_context_weight);
    return Status::ok();
}

// Note-granularity results: visible notes, scores weighted by MemoryBank retention, 1-hop link neighbours added with
// a decayed score; the returned notes are recalled (queued: strength refreshed by the store's next write).
Result<std::vector<SearchHit>> Searcher::note_hits(const SearchRequest& req, std::vector<retrieval::FusedHit> fused,
                                                   const ScoreCalibrator& calibrator,
                                                   const std::vector<float>& query_vector, HitReader& reads) {
    KASTEN_ASSIGN_OR_RETURN(Repositories * leased, reads.store().get());
    Repositories& store = *leased;
    struct Scored {
        store::NoteRecord note;
        double score = 0;
        double relevance = 0;  // calibrated: of the note the query matched (a link neighbour: inherited, decayed)
        int lexical_rank = -1;
        int vector_rank = -1;
    };
    const TimeMs now = ctx_.clock->now_ms();
    // The note as stored, with a recall queued since overlaid.
    auto get = [&](const std::string& id) -> Result<store::NoteRecord> {
        auto n = store.notes.get(req.cube_id, id);
        RecallQueue::Recall recall;
        if (n && ctx_.recalls.overlay(req.cube_id, id, &recall)) {
            n->strength = recall.strength;
            n->last_access = recall.last_access;
        }
        return n;
    };
    std::vector<Scored> found;
    std::unordered_map<std::string, size_t> seen;
    for (const auto& f : fused) {
        auto n = get(f.id);
        if (!n) continue;
        KASTEN_ASSIGN_OR_RETURN(
            const double relevance,
            calibrated(calibrator, query_vector, req.cube_id, UnitType::kNote, n->id,
                       retrieval::LexicalIndex::analyze_text_among(note_index_text(*n), calibrator.terms())));
        if (!note_visible(*n, req.as_of)) {
            // A current search that matches an outdated fact answers with the fact that replaced it ("where do I
            // live" matches "I live in Boston", superseded by "I moved to Denver").
            if (req.as_of || n->status != store::NoteStatus::kSuperseded) continue;
            for (int hops = 0;
                 hops < 8 && n && n->status == store::NoteStatus::kSuperseded && !n->superseded_by.empty(); ++hops) {
                n = get(n->superseded_by);
            }
            if (!n || !note_visible(*n, req.as_of)) continue;
        }
        const double score = f.score * ranking_factor(n->strength, n->last_access, now);
        auto it = seen.find(n->id);
        if (it != seen.end()) {
            found[it->second].score = std::max(found[it->second].score, score);
            found[it->second].relevance = std::max(found[it->second].relevance, relevance);
            continue;
        }
        seen[n->id] = found.size();
        found.push_back({std::move(n).value(), score, relevance, f.lexical_rank, f.vector_rank});
    }
    auto by_score = [](const Scored& a, const Scored& b) { return a.score > b.score; };
    std::stable_sort(found.begin(), found.end(), by_score);
    if (req.expand_links && ctx_.options.link_decay > 0) {
        const size_t parents = std::min(found.size(), static_cast<size_t>(req.top_k));
        std::vector<Scored> extra;
        std::set<std::string> added;
        for (size_t i = 0; i < parents; ++i) {
            KASTEN_ASSIGN_OR_RETURN(auto ls, store.links.list_for_note(req.cube_id, found[i].note.id));
            for (const auto& l : ls) {
                const std::string& other = l.src_note_id == found[i].note.id ? l.dst_note_id : l.src_note_id;
                if (seen.count(other) || !added.insert(other).second) continue;
                auto n = get(other);
                if (!n || !note_visible(*n, req.as_of)) continue;
                const double score = found[i].score * l.weight * ctx_.options.link_decay *
                                     ranking_factor(n->strength, n->last_access, now);
                const double relevance = found[i].relevance * l.weight * ctx_.options.link_decay;
                extra.push_back({std::move(n).value(), score, relevance, -1, -1});
            }
        }
        for (auto& e : extra) found.push_back(std::move(e));
        std::stable_sort(found.begin(), found.end(), by_score);
    }
    std::erase_if(found, [&](const Scored& f) { return !passes_min_score(req, f.relevance); });
    if (static_cast<int>(found.size()) > req.top_k) found.resize(static_cast<size_t>(req.top_k));

    // MemoryBank: recall refreshes a memory.
    for (const auto& f : found) ctx_.recalls.recall(req.cube_id, f.note.id, now, f.note.strength);

    std::vector<SearchHit> hits;
    for (auto& f : found) {
        SearchHit hit;
        hit.granularity = Granularity::kNote;
        hit.score = std::clamp(f.relevance, 0.0, 1.0);
        hit.rank_score = f.score;
        hit.lexical_rank = f.lexical_rank;
        hit.vector_rank = f.vector_rank;
        hit.id = f.note.id;
        hit.text = f.note.content;
        hit.time = f.note.valid_from.value_or(f.note.recorded_at);
        hit.turn_ids = f.note.source_turn_ids;
        if (!hit.turn_ids.empty()) {
            KASTEN_ASSIGN_OR_RETURN(auto t, reads.turn(hit.turn_ids.front()));
            if (t) {
                KASTEN_ASSIGN_OR_RETURN(auto session, reads.session_external_id(t->session_id));
                hit.session_id = session.value_or("");
            }
        }
        hits.push_back(std::move(hit));
    }
    return hits;
}

Result<std::vector<SearchHit>> Searcher::search(const SearchRequest& req) {
    KASTEN_RETURN_IF_ERROR(validate_identifier("cube id", req.cube_id));
    KASTEN_RETURN_IF_ERROR(validate_text("query", req.query, false));
    if (req.top_k < 1) return Status::invalid_argument("top_k must be at least 1");
    if (req.role) KASTEN_RETURN_IF_ERROR(validate_role(*req.role));
    if (req.time_from && req.time_to && *req.time_to < *req.time_from) {
        return Status::invalid_argument("time_to is before time_from");
    }
    ctx_.searches++;
    SearchFilter filter;
    filter.cube_id = req.cube_id;
    filter.type = unit_of(req.granularity);
    filter.time_from = req.time_from;
    filter.time_to = req.time_to;
    if (req.granularity == Granularity::kTurn) filter.role = req.role;
    // Taken before the snapshot begins (HitCache: what a miss reads is cached only if the cube did not change since).
    const std::uint64_t hit_epoch = ctx_.index->hits().epoch(req.cube_id);
    // At most one lease and one read transaction for the whole search (see the class comment), taken on the first
    // row the hit cache does not hold.
    LazyLease snapshot(*ctx_.readers);
    HitReader reads(ctx_.index->hits(), snapshot, req.cube_id, hit_epoch);
    {
        KASTEN_RETURN_IF_ERROR(named(reads.cube_exists(), cube_label(req.cube_id)));
        if (req.retriever != Retriever::kLexical && ctx_.index->is_foreign(req.cube_id)) {
            KASTEN_ASSIGN_OR_RETURN(Repositories * store, snapshot.get());
            KASTEN_ASSIGN_OR_RETURN(auto cube, named(store->cubes.get(req.cube_id), cube_label(req.cube_id)));
            return ctx_.index->check_cube_embedder(cube);
        }
        if (req.session_id && req.granularity != Granularity::kNote) {
            KASTEN_ASSIGN_OR_RETURN(Repositories * store, snapshot.get());
            auto s = store->sessions.get_by_external(req.cube_id, *req.session_id);
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
    if (req.retriever != Retriever::kLexical) query_vector = ctx_.embedder->embed(req.query);
    const std::vector<float>* qv = query_vector.empty() ? nullptr : &query_vector;
    KASTEN_ASSIGN_OR_RETURN(std::vector<retrieval::FusedHit> fused,
                            candidates(req.query, qv, filter, req.retriever, pool));
    KASTEN_RETURN_IF_ERROR(add_subqueries(req, filter, pool, fused));
    std::vector<TimeWindow> windows = ctx_.options.temporal_weight > 0
                                          ? query_time_windows(req.query, req.query_time.value_or(ctx_.clock->now_ms()))
                                          : std::vector<TimeWindow>{};
    KASTEN_ASSIGN_OR_RETURN(auto anchored, event_windows(req, req.query_time.value_or(ctx_.clock->now_ms()), reads));
    windows.insert(windows.end(), anchored.begin(), anchored.end());
    KASTEN_RETURN_IF_ERROR(boost_in_windows(fused, req.query, qv, filter, req.retriever, pool, windows));
    KASTEN_ASSIGN_OR_RETURN(const ScoreCalibrator calibrator, calibrator_for(req, filter.type, query_vector));
    if (req.granularity == Granularity::kNote) return note_hits(req, std::move(fused), calibrator, query_vector, reads);

    // Notes as extra keys: a note's score credits its source turns (turn granularity) or their sessions. A credited
    // unit's calibrated score is the best of its own and its notes' (the evidence of its best key). The notes'
    // calibrated scores are computed only for the units listed (their sources), not for every note in the pool.
    std::vector<NoteSourceIndex::Entry> crediting_notes;
    // Session granularity: the sessions of the notes' source turns (existing turns only).
    std::unordered_map<std::string, std::string> session_of;
    // The units the notes credit, each once in the order first credited: a view of its id (held by crediting_notes
    // or session_of), the best score of its notes, and its notes (indices in crediting_notes).
    struct Credited {
        std::string_view unit;
        double credit = 0;
        std::vector<std::size_t> sources;
    };
    std::vector<Credited> credited;
    retrieval::IdPositions credited_at;  // unit -> index in credited
    if (req.note_keys && ctx_.options.note_key_weight > 0) {
        SearchFilter note_filter;
        note_filter.cube_id = req.cube_id;
        note_filter.type = UnitType::kNote;
        KASTEN_ASSIGN_OR_RETURN(auto note_fused, candidates(req.query, qv, note_filter, req.retriever, pool));
        KASTEN_RETURN_IF_ERROR(boost_in_windows(note_fused, req.query, qv, note_filter, req.retriever, pool, windows));
        if (!note_fused.empty()) {
            // The notes' sources from memory (NoteSourceIndex), not one store row per candidate note.
            std::vector<std::string> note_ids;
            note_ids.reserve(note_fused.size());
            for (const auto& h : note_fused) note_ids.push_back(h.id);
            std::vector<NoteSourceIndex::Entry> notes = ctx_.index->note_sources().get_many(req.cube_id, note_ids);
            if (req.granularity == Granularity::kSession) {
                std::vector<std::string> turn_ids;
                for (const auto& n : notes) {
                    if (n && note_visible(*n, req.as_of)) {
                        turn_ids.insert(turn_ids.end(), n->source_turn_ids.begin(), n->source_turn_ids.end());
                    }
                }
                for (auto& place : ctx_.index->places().near(req.cube_id, turn_ids, 0)) {
                    session_of.emplace(std::move(place.id), std::move(place.session_id));
                }
            }
            for (std::size_t h = 0; h < note_fused.size(); ++h) {
                const NoteSourceIndex::Entry& n = notes[h];
                if (!n || !note_visible(*n, req.as_of) || n->source_turn_ids.empty()) continue;
                const std::size_t note_index = crediting_notes.size();
                crediting_notes.push_back(n);
                for (const auto& turn_id : n->source_turn_ids) {
                    std::string_view unit = turn_id;
                    if (req.granularity == Granularity::kSession) {
                        auto it = session_of.find(turn_id);
                        if (it == session_of.end()) continue;
                        unit = it->second;
                    }
                    const std::uint32_t at = credited_at.insert(unit, static_cast<std::uint32_t>(credited.size()));
                    if (at == credited.size()) credited.push_back({unit, 0.0, {}});
                    Credited& c = credited[at];
                    c.credit = std::max(c.credit, note_fused[h].score);
                    if (c.sources.empty() || c.sources.back() != note_index) c.sources.push_back(note_index);
                }
            }
        }
        if (!credited.empty()) {
            // A session's notes expand its key (LongMemEval's fact-augmented keys): their best score adds, weighted.
            // A turn's notes are alternative keys: the turn scores by its best key, its own text or a note. Most
            // turns have no note, so adding would favour the turns that happen to have one. Units found only
            // through a note join in id order.
            CreditList credit;
            credit.reserve(credited.size());
            for (const Credited& c : credited) credit.emplace_back(c.unit, c.credit);
            if (req.granularity == Granularity::kSession) {
                apply_credit(fused, credit, ctx_.options.note_key_weight, CreditMode::kAdd);
            } else {
                apply_credit(fused, credit, 1.0, CreditMode::kBest);
            }
        }
    }

    KASTEN_RETURN_IF_ERROR(lend_context(req, filter, qv, pool, windows, fused));
    KASTEN_RETURN_IF_ERROR(second_hop(req, filter, pool, fused, reads));

    std::vector<SearchHit> hits;

    // The calibrated score of each crediting note, computed on first use.
    std::optional<ScoreCalibrator> note_calibrator;
    std::vector<std::optional<double>> note_relevance(crediting_notes.size());
    auto relevance_of_notes = [&](const std::string& unit) -> Result<double> {
        double best = 0;
        const std::uint32_t at = credited_at.find(unit);
        if (at == retrieval::IdPositions::kAbsent) return best;
        if (!note_calibrator) {
            KASTEN_ASSIGN_OR_RETURN(ScoreCalibrator c, calibrator_for(req, UnitType::kNote, query_vector));
            note_calibrator.emplace(std::move(c));
        }
        for (const std::size_t i : credited[at].sources) {
            if (!note_relevance[i]) {
                // The text only now: most crediting notes credit no listed unit.
                double score = 0;
                const std::string& note_id = crediting_notes[i]->id;
                KASTEN_ASSIGN_OR_RETURN(auto terms, reads.note_terms(note_id));
                if (terms) {
                    KASTEN_ASSIGN_OR_RETURN(
                        score, calibrated(*note_calibrator, query_vector, req.cube_id, UnitType::kNote, note_id,
                                          terms->among(note_calibrator->terms())));
                }
                note_relevance[i] = score;
            }
            best = std::max(best, *note_relevance[i]);
        }
        return best;
    };

    // The listed turns' cosines to the query, looked up for the candidates ahead in batches (one index call each
    // instead of one per hit).
    std::vector<std::optional<double>> turn_cosines(fused.size());
    std::size_t cosines_known = 0;  // fused[0, cosines_known) looked up
    auto turn_cosine = [&](std::size_t i) -> Result<std::optional<double>> {
        if (!calibrator.uses_cosine() || query_vector.empty()) return std::optional<double>();
        if (i >= cosines_known) {
            const std::size_t end = std::min(fused.size(), i + 2 * static_cast<std::size_t>(req.top_k) + 8);
            std::vector<std::string> ids;
            ids.reserve(end - i);
            for (std::size_t j = i; j < end; ++j) ids.push_back(fused[j].id);
            KASTEN_ASSIGN_OR_RETURN(
                auto cosines, ctx_.index->vectors().similarities(query_vector, req.cube_id, UnitType::kTurn, ids));
            for (std::size_t j = i; j < end; ++j) turn_cosines[j] = cosines[j - i];
            cosines_known = end;
        }
        return turn_cosines[i];
    };

    for (std::size_t fi = 0; fi < fused.size(); ++fi) {
        const retrieval::FusedHit& f = fused[fi];
        if (static_cast<int>(hits.size()) >= req.top_k) break;
        SearchHit hit;
        hit.granularity = req.granularity;
        hit.rank_score = f.score;
        hit.lexical_rank = f.lexical_rank;
        KASTEN_ASSIGN_OR_RETURN(double relevance, relevance_of_notes(f.id));
        hit.vector_rank = f.vector_rank;
        if (req.granularity == Granularity::kTurn) {
            KASTEN_ASSIGN_OR_RETURN(auto t, reads.turn(f.id));
            if (!t) continue;  // deleted between index and store read
            // Units credited by notes did not pass the index's filter: apply it here.
            if (filter.role && t->role != *filter.role) continue;
            if (filter.session_id && t->session_id != *filter.session_id) continue;
            if ((filter.time_from && t->conv_time < *filter.time_from) ||
                (filter.time_to && t->conv_time > *filter.time_to)) {
                continue;
            }
            KASTEN_ASSIGN_OR_RETURN(const std::optional<double> cosine, turn_cosine(fi));
            const double own =
                calibrator.score(t->terms ? t->terms->among(calibrator.terms())
                                          : retrieval::LexicalIndex::analyze_text_among(t->content, calibrator.terms()),
                                 cosine);
            relevance = std::max(relevance, own);
            if (!passes_min_score(req, relevance)) continue;
            hit.id = f.id;
            KASTEN_ASSIGN_OR_RETURN(auto session, reads.session_external_id(t->session_id));
            hit.session_id = session.value_or("");
            hit.text = std::move(t->content);
            hit.time = t->conv_time;
            hit.role = std::move(t->role);
            hit.turn_ids = {f.id};
        } else {
            KASTEN_ASSIGN_OR_RETURN(Repositories * store, snapshot.get());
            auto s = store->sessions.get(req.cube_id, f.id);
            if (!s) continue;
            if (filter.session_id && s->id != *filter.session_id) continue;
            if ((filter.time_from && s->started_at < *filter.time_from) ||
                (filter.time_to && s->started_at > *filter.time_to)) {
                continue;
            }
            auto ts = store->turns.list_by_session(req.cube_id, s->id);
            if (!ts) return ts.status();
            KASTEN_ASSIGN_OR_RETURN(const double own,
                                    calibrated(calibrator, query_vector, req.cube_id, UnitType::kSession, s->id,
                                               SessionKey::analysis_among(*ts, calibrator.terms())));
            relevance = std::max(relevance, own);
            if (!passes_min_score(req, relevance)) continue;
            hit.id = s->external_id;
            hit.session_id = s->external_id;
            hit.text = session_text(*ts);
            hit.time = s->started_at;
            for (const auto& t : *ts) hit.turn_ids.push_back(t.id);
        }
        hit.score = std::clamp(relevance, 0.0, 1.0);
        hits.push_back(std::move(hit));
    }
    return hits;
}

}  // namespace kasten::memory
