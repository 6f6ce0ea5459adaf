// Searcher's multi-key steps (docs/retrieval.md, "Multi-hop questions" and "Times relative to an event"): a second hop
// for the query aspects the first leaves out, and event-anchored time windows. The logic is in memory/aspect_coverage.h
// and memory/event_anchor.h; this file reads what they need from the indexes and the store.
#include <algorithm>

#include "memory/aspect_coverage.h"
#include "memory/context_credit.h"
#include "memory/event_anchor.h"
#include "memory/query_decomposer.h"
#include "memory/searcher.h"
#include "memory/session_key.h"

namespace kasten::memory {

namespace {

// The first hop's top units whose terms count as covered for the second hop: what a reader sees first.
constexpr std::size_t kHopFrom = 5;

// How many turns an event's phrase search ranks (the best one gives the event's time).
constexpr int kEventPool = 10;

std::vector<std::string> terms_of(const retrieval::LexicalIndex::Analysis& a) {
    std::vector<std::string> terms;
    terms.reserve(a.terms.size());
    for (const auto& [term, wdf] : a.terms) terms.push_back(term);
    return terms;
}

}  // namespace

Status Searcher::second_hop(const SearchRequest& req, const retrieval::SearchFilter& filter, int pool,
                            std::vector<retrieval::FusedHit>& fused, HitReader& reads) {
    const double weight = ctx_.options.second_hop_weight;
    if (weight <= 0 || fused.size() < 2 || req.granularity == Granularity::kNote) return Status::ok();
    // Only a question that joins parts ("between A and B", "A or B": decompose_query) asks for evidence on each; in
    // a single question ("What did Caroline research?") a word the top units miss is no separate piece of evidence.
    if (decompose_query(req.query).empty()) return Status::ok();
    const std::vector<std::string> terms = retrieval::LexicalIndex::analyze(req.query);
    if (terms.size() < 2) return Status::ok();
    KASTEN_ASSIGN_OR_RETURN(auto counts,
                            ctx_.index->lexical().term_counts(req.cube_id, filter.type, terms,
                                                              retrieval::LexicalIndex::ReadFrom::kCommittedIfClean));
    const std::vector<QueryAspect> aspects = query_aspects(terms, counts.frequencies, counts.documents);
    if (aspects.empty()) return Status::ok();
    // The query's index terms that the first hop's top units hold (all that uncovered_query_text() looks at).
    std::vector<std::vector<std::string>> top;
    for (std::size_t i = 0; i < fused.size() && i < kHopFrom; ++i) {
        if (req.granularity == Granularity::kTurn) {
            KASTEN_ASSIGN_OR_RETURN(auto t, reads.turn(fused[i].id));
            if (t) top.push_back(terms_of(retrieval::LexicalIndex::analyze_text_among(t->content, terms)));
        } else {
            KASTEN_ASSIGN_OR_RETURN(Repositories * store, reads.store().get());
            auto ts = store->turns.list_by_session(req.cube_id, fused[i].id);
            if (ts) top.push_back(terms_of(SessionKey::analysis_among(*ts, terms)));
        }
    }
    const std::string text = uncovered_query_text(req.query, aspects, top);
    if (text.empty()) return Status::ok();
    KASTEN_ASSIGN_OR_RETURN(auto hits, candidates(text, nullptr, filter, req.retriever, pool));
    double best = 0, first = 0;
    for (const auto& h : hits) best = std::max(best, h.score);
    for (const auto& h : fused) first = std::max(first, h.score);
    if (best <= 0) return Status::ok();
    Credit credit;
    for (const auto& h : hits) credit[h.id] = h.score / best * first;
    add_credit(fused, credit, weight);
    return Status::ok();
}

Result<std::vector<TimeWindow>> Searcher::event_windows(const SearchRequest& req, TimeMs query_time, HitReader& reads) {
    const double weight = ctx_.options.event_anchor_weight;
    if (weight <= 0 || ctx_.options.temporal_weight <= 0) return std::vector<TimeWindow>{};
    Status failed = Status::ok();
    auto event_time = [&](const std::string& event) -> std::optional<TimeMs> {
        retrieval::SearchFilter f;
        f.cube_id = req.cube_id;
        f.type = retrieval::UnitType::kTurn;
        f.time_to = query_time;
        auto hits = candidates(event, nullptr, f, req.retriever, kEventPool);
        if (!hits) {
            failed = hits.status();
            return std::nullopt;
        }
        if (hits->empty()) return std::nullopt;
        auto t = reads.turn(hits->front().id);
        if (!t) {
            failed = t.status();
            return std::nullopt;
        }
        if (!*t) return std::nullopt;
        return (*t)->conv_time;
    };
    std::vector<TimeWindow> windows = event_anchored_windows(req.query, query_time, weight, event_time);
    KASTEN_RETURN_IF_ERROR(failed);
    return windows;
}

}  // namespace kasten::memory
