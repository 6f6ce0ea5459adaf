#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "retrieval/lexical_index.h"

namespace kasten::memory {

// Pseudo-relevance feedback without a model (Rocchio / RM3 family, docs/retrieval.md "Feedback from the top units"):
// the index terms that several of a first ranking's top units share, and the query does not hold, name what the
// query is about in the memory's own words ("How many tanks do I have?": tank, fish, gallon, aquarium), and a search
// of those terms finds evidence that shares few words with the question. Pure and thread-safe.

// One top unit of the first ranking: its index document and its fused score (> 0).
struct FeedbackUnit {
    const retrieval::LexicalIndex::Analysis* analysis = nullptr;
    double score = 0;
};

// The expansion candidates: the index terms held by at least `min_units` of `units` and not in `query_terms`,
// ascending and distinct.
std::vector<std::string> feedback_candidates(const std::vector<FeedbackUnit>& units,
                                             const std::vector<std::string>& query_terms, std::size_t min_units);

// One expansion term and its weight.
struct FeedbackTerm {
    std::string term;
    double weight = 0;
};

// The `most` best of `candidates` (as feedback_candidates returns them; `frequencies` parallel, the number of the
// searched unit type's `documents` that hold each) by weight
//   sum over units u of (score_u / sum of scores) * (wdf(t, u) / length of u) * idf(t),
//   idf(t) = log(1 + (documents - df + 0.5) / (df + 0.5)),
// the units' relevance model (RM3's P(t | R) with the units' scores as their weights) times the term's rarity, so
// that words every unit of the memory uses weigh little. Descending by weight, ties by term; terms no document holds
// are dropped (they are not in the index).
std::vector<FeedbackTerm> rank_feedback_terms(const std::vector<FeedbackUnit>& units,
                                              const std::vector<std::string>& candidates,
                                              const std::vector<std::uint64_t>& frequencies, std::uint64_t documents,
                                              std::size_t most);

}  // namespace kasten::memory
