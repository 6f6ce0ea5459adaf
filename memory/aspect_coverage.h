#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace kasten::memory {

// Query aspects for multi-part questions, without a model: a question that needs several pieces of evidence ("How
// many days passed between my visit to the MoMA and the Ancient Civilizations exhibit?") names each piece by
// different words, and one fused ranking fills its top with units matching the dominant words. The query's index
// terms are its aspects; the aspects the top units leave out are searched again (a second hop). Pure and
// thread-safe. (A re-ranking that rewarded each unit for the aspects no unit above it covers, xQuAD-style, was
// measured and dropped: docs/retrieval.md, "Multi-hop questions".)

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

// A second hop for the aspects the first one left out: the words of `query` (in text order, joined by spaces) whose
// index term is one of `aspects` and in none of `top_terms` (the index terms of the first hop's top units). Empty
// when every aspect is covered, or when none is (the first hop matched by meaning only: the second would repeat it).
std::string uncovered_query_text(std::string_view query, const std::vector<QueryAspect>& aspects,
                                 const std::vector<std::vector<std::string>>& top_terms);

}  // namespace kasten::memory
