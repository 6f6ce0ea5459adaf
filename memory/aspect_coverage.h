#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "retrieval/fusion.h"

namespace kasten::memory {

// Query-aspect coverage (xQuAD, Santos et al. 2010, without a model): a question that needs several pieces of
// evidence ("How many days passed between my visit to the MoMA and the Ancient Civilizations exhibit?") names each
// piece by different words, and one fused ranking fills its top with units matching the dominant words. The query's
// index terms are its aspects; walking down the ranking, a unit gains for the aspects it covers that no unit above
// it covers yet. This rewards covering the query, not differing from the units above (a unit covering nothing new
// keeps its own score). Pure and thread-safe.

// One aspect: an index term of the query and its share of the query's weight.
struct QueryAspect {
    std::string term;
    double weight = 0;
};

// The query's distinct index terms (`terms`, as LexicalIndex::analyze returns them) but for the words that frame a
// question's answer rather than name its evidence (how many days / weeks / months / years / times, how long, passed,
// ago, first, last, happened, recently, ...: "How many days passed between A and B?" is about A and B), weighted by
// their BM25 idf,
// log(1 + (documents - df + 0.5) / (df + 0.5)) with `frequencies` parallel to `terms`, normalised to sum 1. Terms
// no document holds carry no evidence and are dropped. Fewer than two aspects left: empty (one aspect has nothing
// to balance).
std::vector<QueryAspect> query_aspects(const std::vector<std::string>& terms,
                                       const std::vector<std::uint64_t>& frequencies, std::uint64_t documents);

// Re-ranks the first unit_terms.size() hits of `fused` (best-first; unit_terms[i] = the index terms of fused[i], in
// any order): greedily, the next unit is the one maximising score / top + weight × Σ aspects it covers that the units
// already placed do not (each aspect's weight), where top is the best score. The re-ranked hits' scores become top ×
// that value (non-increasing down the list, and never below their own score, so the hits after them stay after
// them). Ties keep the original order. No-op when `weight` <= 0, `aspects` is empty or the best score is <= 0.
void rerank_by_aspect_coverage(std::vector<retrieval::FusedHit>& fused, const std::vector<QueryAspect>& aspects,
                               const std::vector<std::vector<std::string>>& unit_terms, double weight);

// A second hop for the aspects the first one left out: the words of `query` (in text order, joined by spaces) whose
// index term is one of `aspects` and in none of `top_terms` (the index terms of the first hop's top units). Empty
// when every aspect is covered, or when none is (the first hop matched by meaning only: the second would repeat it).
std::string uncovered_query_text(std::string_view query, const std::vector<QueryAspect>& aspects,
                                 const std::vector<std::vector<std::string>>& top_terms);

}  // namespace kasten::memory
