#include "retrieval/fusion.h"

#include <algorithm>

#include "retrieval/id_positions.h"

namespace kasten::retrieval {
namespace {

// The union of both lists with ranks and raw scores filled in; `score` is left 0. Order: first appearance.
std::vector<FusedHit> union_of(const std::vector<ScoredId>& lexical, const std::vector<ScoredId>& vector) {
    std::vector<FusedHit> hits;
    hits.reserve(lexical.size() + vector.size());
    IdPositions index(lexical.size() + vector.size());  // views of the lists' ids
    auto slot = [&](const std::string& id) -> FusedHit& {
        const std::uint32_t at = index.insert(id, static_cast<std::uint32_t>(hits.size()));
        if (at == hits.size()) hits.push_back(FusedHit{.id = id});
        return hits[at];
    };
    for (std::size_t i = 0; i < lexical.size(); ++i) {
        FusedHit& h = slot(lexical[i].id);
        if (h.lexical_rank != -1) continue;
        h.lexical_rank = static_cast<int>(i) + 1;
        h.lexical_score = lexical[i].score;
    }
    for (std::size_t i = 0; i < vector.size(); ++i) {
        FusedHit& h = slot(vector[i].id);
        if (h.vector_rank != -1) continue;
        h.vector_rank = static_cast<int>(i) + 1;
        h.vector_score = vector[i].score;
    }
    return hits;
}

// Keeps the best k by (score desc, id asc).
std::vector<FusedHit> top_k(std::vector<FusedHit> hits, int k) {
    auto better = [](const FusedHit& a, const FusedHit& b) {
        if (a.score != b.score) return a.score > b.score;
        return a.id < b.id;
    };
    const std::size_t n = std::min(hits.size(), static_cast<std::size_t>(std::max(k, 0)));
    std::partial_sort(hits.begin(), hits.begin() + static_cast<std::ptrdiff_t>(n), hits.end(), better);
    hits.resize(n);
    return hits;
}

struct Range {
    double min = 0;
    double max = 0;
    // (s - min) / (max - min), or 1 for a constant list.
    double normalise(double s) const { return max > min ? (s - min) / (max - min) : 1.0; }
};

Range range_of(const std::vector<ScoredId>& list) {
    if (list.empty()) return {};
    Range r{list.front().score, list.front().score};
    for (const auto& s : list) {
        r.min = std::min(r.min, s.score);
        r.max = std::max(r.max, s.score);
    }
    return r;
}

}  // namespace

std::vector<FusedHit> fuse_reciprocal_rank(const std::vector<ScoredId>& lexical, const std::vector<ScoredId>& vector,
                                           int k, double rrf_k, double w_lex, double w_vec) {
    if (k <= 0) return {};
    std::vector<FusedHit> hits = union_of(lexical, vector);
    for (FusedHit& h : hits) {
        h.score = 0;
        if (h.lexical_rank > 0) h.score += w_lex / (rrf_k + h.lexical_rank);
        if (h.vector_rank > 0) h.score += w_vec / (rrf_k + h.vector_rank);
    }
    return top_k(std::move(hits), k);
}

std::vector<FusedHit> fuse_weighted(const std::vector<ScoredId>& lexical, const std::vector<ScoredId>& vector, int k,
                                    double w_lex, double w_vec) {
    if (k <= 0) return {};
    const Range lex = range_of(lexical);
    const Range vec = range_of(vector);
    std::vector<FusedHit> hits = union_of(lexical, vector);
    for (FusedHit& h : hits) {
        h.score = 0;
        if (h.lexical_rank > 0) h.score += w_lex * lex.normalise(h.lexical_score);
        if (h.vector_rank > 0) h.score += w_vec * vec.normalise(h.vector_score);
    }
    return top_k(std::move(hits), k);
}

}  // namespace kasten::retrieval
