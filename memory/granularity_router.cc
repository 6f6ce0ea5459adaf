#include "memory/granularity_router.h"

#include <algorithm>
#include <cmath>

namespace kasten::memory {
namespace {

constexpr size_t kTopScores = 10;      // scores whose distribution the router reads
constexpr double kWeightFloor = 0.05;  // weight every granularity keeps (a flat list can still hold the answer)

}  // namespace

double score_entropy(const std::vector<double>& ranking_scores) {
    const size_t m = std::min(ranking_scores.size(), kTopScores);
    if (m <= 1) return 0.0;
    double sum = 0;
    for (size_t i = 0; i < m; ++i) sum += std::max(0.0, ranking_scores[i]);
    if (sum <= 0) return 1.0;
    double h = 0;
    for (size_t i = 0; i < m; ++i) {
        const double p = std::max(0.0, ranking_scores[i]) / sum;
        if (p > 0) h -= p * std::log(p);
    }
    return h / std::log(static_cast<double>(m));
}

std::map<Granularity, double> granularity_weights(const std::map<Granularity, std::vector<double>>& scores) {
    std::map<Granularity, double> out;
    double total = 0;
    for (const auto& [g, list] : scores) {
        if (list.empty()) continue;
        const double w = (1.0 - score_entropy(list)) + kWeightFloor;
        out[g] = w;
        total += w;
    }
    for (auto& [g, w] : out) w /= total;
    return out;
}

std::unordered_map<std::string, double> hit_relevance(const std::vector<SearchHit>& hits,
                                                      const std::vector<SearchHit>& in_window) {
    std::unordered_map<std::string, double> out;
    double best = 0;
    for (const auto& h : hits) best = std::max(best, h.rank_score);
    for (const auto& h : hits) out[h.id] = best > 0 ? std::max(0.0, h.rank_score) / best : 0.0;
    double best_inside = 0;
    for (const auto& h : in_window) best_inside = std::max(best_inside, h.rank_score);
    if (best_inside <= 0) return out;
    for (const auto& h : in_window) {
        const double r = std::max(0.0, h.rank_score) / best_inside;
        double& current = out[h.id];
        current = std::max(current, r);
    }
    return out;
}

double fused_turn_relevance(double own, double note, double session, double session_weight) {
    const double key = std::max(own, note);
    return key * (1.0 + session_weight * session);
}

}  // namespace kasten::memory
