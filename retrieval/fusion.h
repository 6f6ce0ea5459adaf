#pragma once

#include <string>
#include <vector>

#include "retrieval/unit.h"

namespace kasten::retrieval {

// One unit after fusing a lexical and a vector candidate list.
struct FusedHit {
    std::string id;
    double score = 0;          // fused score, higher is better
    int lexical_rank = -1;     // 1-based rank in the lexical list, -1 = absent
    int vector_rank = -1;      // 1-based rank in the vector list, -1 = absent
    double lexical_score = 0;  // the producer's raw score (BM25), 0 when absent
    double vector_score = 0;   // the producer's raw score (cosine), 0 when absent
};

// Both functions take each list best-first (rank = position + 1; a repeated id keeps its first, best, position),
// return the union of the two lists fused, best-first (score descending, then id ascending), at most k hits
// (k <= 0 gives an empty list). Pure and deterministic.

// Reciprocal-rank fusion: score = w_lex / (rrf_k + lexical_rank) + w_vec / (rrf_k + vector_rank), absent terms 0.
std::vector<FusedHit> fuse_reciprocal_rank(const std::vector<ScoredId>& lexical, const std::vector<ScoredId>& vector,
                                           int k, double rrf_k = 60, double w_lex = 1, double w_vec = 1);

// Weighted sum of min-max normalised scores: each list's scores are mapped to [0, 1] ((s - min) / (max - min); all 1
// when max == min), then score = w_lex * lex_norm + w_vec * vec_norm, absent terms 0.
std::vector<FusedHit> fuse_weighted(const std::vector<ScoredId>& lexical, const std::vector<ScoredId>& vector, int k,
                                    double w_lex = 1, double w_vec = 1);

}  // namespace kasten::retrieval
