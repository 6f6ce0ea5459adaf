#pragma once

#include <array>
#include <map>
#include <span>
#include <string>
#include <vector>

namespace kasten::eval {

// The official cut-offs (run_retrieval.py).
inline constexpr std::array<int, 6> kRetrievalCutoffs = {1, 3, 5, 10, 30, 50};

// Metric name → value for one question, e.g. "recall_all@5" → 1. Ordered by name.
using MetricMap = std::map<std::string, double>;

// The three official metrics at one cut-off.
struct CutoffScores {
    double recall_any = 0;  // some gold id in the top k (0 without gold)
    double recall_all = 0;  // every gold id in the top k (1 without gold)
    double ndcg_any = 0;    // binary nDCG@k; DCG = rel_1 + sum_{i>=2} rel_i / log2(i), IDCG over all corpus
                            // relevances sorted; 0 without gold
};

// src/retrieval/eval_utils.py, evaluate_retrieval: `ranking` holds corpus indices best first (it may be shorter than
// the corpus; only its first k entries count), `corpus_ids[i]` is document i's id (ids may repeat: relevance is per
// document), `gold` the gold ids. Indices must be within corpus_ids (programmer error otherwise).
CutoffScores evaluate_retrieval(std::span<const int> ranking, const std::vector<std::string>& gold,
                                const std::vector<std::string>& corpus_ids, int k);

// eval_utils.py, evaluate_retrieval_turn2session: turn ids and gold are mapped to their session (strip_turn_id), and k
// grows from k until the first k' ranked turns cover k distinct sessions (or k' exceeds the corpus size by one), then
// evaluate_retrieval runs at k'.
CutoffScores evaluate_retrieval_turn2session(std::span<const int> ranking, const std::vector<std::string>& gold,
                                             const std::vector<std::string>& corpus_ids, int k);

// All cut-offs of kRetrievalCutoffs: "recall_any@k", "recall_all@k", "ndcg_any@k".
MetricMap score_ranking(std::span<const int> ranking, const std::vector<std::string>& gold,
                        const std::vector<std::string>& corpus_ids);
MetricMap score_ranking_turn2session(std::span<const int> ranking, const std::vector<std::string>& gold,
                                     const std::vector<std::string>& corpus_ids);

// The metric names in report order: for each cut-off, recall_any, recall_all, ndcg_any.
const std::vector<std::string>& retrieval_metric_names();

}  // namespace kasten::eval
