#include "eval/evidence_recall.h"

#include <algorithm>
#include <unordered_set>

namespace kasten::eval {

double evidence_recall(const std::vector<std::string>& evidence, const std::vector<std::string>& retrieved) {
    if (evidence.empty()) return 1.0;
    const std::unordered_set<std::string> got(retrieved.begin(), retrieved.end());
    std::size_t hits = 0;
    for (const auto& e : evidence) hits += got.count(e) ? 1 : 0;
    return static_cast<double>(hits) / static_cast<double>(evidence.size());
}

MetricMap score_evidence_ranking(const std::vector<std::string>& ranked, const std::vector<std::string>& evidence,
                                 const std::vector<int>& cutoffs) {
    MetricMap m;
    for (int k : cutoffs) {
        const std::size_t n = std::min<std::size_t>(ranked.size(), static_cast<std::size_t>(std::max(k, 0)));
        const std::vector<std::string> top(ranked.begin(), ranked.begin() + static_cast<std::ptrdiff_t>(n));
        const double r = evidence_recall(evidence, top);
        m["recall@" + std::to_string(k)] = r;
        m["recall_all@" + std::to_string(k)] = r >= 1.0 ? 1.0 : 0.0;
    }
    return m;
}

std::vector<std::string> evidence_metric_names(const std::vector<int>& cutoffs) {
    std::vector<std::string> names;
    for (int k : cutoffs) names.push_back("recall@" + std::to_string(k));
    for (int k : cutoffs) names.push_back("recall_all@" + std::to_string(k));
    return names;
}

}  // namespace kasten::eval
