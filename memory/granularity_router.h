#pragma once

#include <map>
#include <string>
#include <unordered_map>
#include <vector>

#include "memory/memory_types.h"
#include "memory/query_time_windows.h"

namespace kasten::memory {

// Normalised entropy in [0, 1] of the distribution of the top 10 ranking scores (p_i = s_i / Σ s, negative scores
// count as 0); 0 for fewer than two scores, 1 when they sum to 0.
double score_entropy(const std::vector<double>& ranking_scores);

// The router's weights, MemGAS-style: a granularity whose top scores are decisive (low entropy H) gets more weight,
// w ∝ 1 − H + 0.05 (the floor keeps a flat list in play), normalised to sum 1 over the granularities present.
// `scores` holds each granularity's ranking scores, best first.
std::map<Granularity, double> granularity_weights(const std::map<Granularity, std::vector<double>>& scores);

// Relevance in [0, 1] of each hit of one granularity: its ranking score over the list's best. For a hit in
// `in_window` (a search restricted to a time the query names), at least its ranking score there over that list's
// best: the best item inside the named time counts as a best match. Hits only in `in_window` are relevant by it
// alone. Keyed by hit id.
std::unordered_map<std::string, double> hit_relevance(const std::vector<SearchHit>& hits,
                                                      const std::vector<SearchHit>& in_window);

// The router's relevance of a turn from the three granularities' evidence (each a relevance in [0, 1], 0 = none):
// the turn's best key (its own text or one of its notes, as the search's note keys) raised by its session's
// relevance in proportion to the session weight — key × (1 + session_weight × session). A session lifts the turns
// that match the query, never one that does not (key 0 stays 0), so a relevant session does not spend the budget
// on its off-topic turns.
double fused_turn_relevance(double own, double note, double session, double session_weight);

}  // namespace kasten::memory
