#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "memory/memory_types.h"
#include "retrieval/lexical_index.h"

namespace kasten::memory {

// The minimum score the REST API and the CLI apply when a search names none (SearchRequest::min_score). A unit that
// shares no index term with the query and is no closer to it than unrelated text scores 0; 0.1 also drops the faint
// matches: a common word of a longer query, or a cosine a little above the background (docs/retrieval.md#scores has
// the measurements behind the value).
inline constexpr double kDefaultMinScore = 0.1;

// What a search hit's score means: evidence in [0, 1] that the unit is about the query, measured on the unit alone
// (not relative to the other hits), so that a threshold means the same for every query and cube.
//
//   lexical evidence  L = the idf-weighted share of the query's index terms (LexicalIndex::analyze: stemmed,
//                         stopwords dropped) that the unit's index document contains, idf_t = ln(1 + (N + 1) /
//                         (df_t + 0.5)) over the N documents whose statistics the unit type's BM25 ranking reads
//                         (LexicalIndex::term_counts: the cube's turns for a turn, its sessions for a session, all
//                         its units for a note): a query term the cube never uses weighs most, one in every document
//                         still ln 2 (so in a cube of a few memories matching words count).
//   semantic evidence V = max(0, (cos − b) / (1 − b)): the unit's cosine to the query above the query's background b
//                         (EmbeddingBackground: its highest cosine to unrelated reference text, or 0 when that is
//                         negative), 1 for the same text.
//   score             = (w_lex L + w_vec V) / (w_lex + w_vec) for hybrid search (MemoryOptions' fusion weights),
//                         L for lexical search, V for vector search.
//
// Search ranks by the fused score (SearchHit::rank_score); this score is reported beside it and is what min_score
// thresholds compare against. Value type, one per search.
class ScoreCalibrator {
  public:
    // `terms`: the query's distinct index terms; `document_frequencies` parallel to them, of a cube of `documents`
    // documents; `background` the query's EmbeddingBackground (ignored for lexical search).
    ScoreCalibrator(std::vector<std::string> terms, const std::vector<std::uint64_t>& document_frequencies,
                    std::uint64_t documents, double background, Retriever retriever, double lexical_weight,
                    double vector_weight);

    // L of a unit whose index document is `unit` (terms ascending, as LexicalIndex::Analysis keeps them).
    double lexical(const retrieval::LexicalIndex::Analysis& unit) const;
    // V of a unit at cosine `cosine` to the query (nullopt: not embedded, 0).
    double semantic(std::optional<double> cosine) const;
    // The score of a unit, in [0, 1].
    double score(const retrieval::LexicalIndex::Analysis& unit, std::optional<double> cosine) const;
    // Whether score() reads the cosine (false for lexical search: callers skip the lookup).
    bool uses_cosine() const { return retriever_ != Retriever::kLexical; }
    // The query's terms: lexical() reads only these of a unit's analysis (LexicalIndex::analyze_text_among).
    const std::vector<std::string>& terms() const { return terms_; }

  private:
    std::vector<std::string> terms_;
    std::vector<double> idf_;
    double idf_total_ = 0;
    double background_ = 0;
    Retriever retriever_;
    double lexical_share_ = 0.5;  // w_lex / (w_lex + w_vec)
};

}  // namespace kasten::memory
