#include "eval/retrieval_metrics.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <set>
#include <string_view>
#include <unordered_set>

#include "eval/longmemeval_corpus.h"

namespace kasten::eval {

namespace {

// eval_utils.py dcg(): relevances[0] + sum(relevances[i] / log2(i + 1)) over i = 1 .. min(k, n) - 1.
double dcg(const std::vector<double>& relevances, int k) {
    size_t n = std::min(relevances.size(), static_cast<size_t>(std::max(k, 0)));
    if (n == 0) return 0;
    double sum = 0;
    for (size_t i = 1; i < n; ++i) sum += relevances[i] / std::log2(static_cast<double>(i + 1));
    return relevances[0] + sum;
}

void put(MetricMap* out, int k, const CutoffScores& s) {
    std::string at = "@" + std::to_string(k);
    (*out)["recall_any" + at] = s.recall_any;
    (*out)["recall_all" + at] = s.recall_all;
    (*out)["ndcg_any" + at] = s.ndcg_any;
}

}  // namespace

CutoffScores evaluate_retrieval(std::span<const int> ranking, const std::vector<std::string>& gold,
                                const std::vector<std::string>& corpus_ids, int k) {
    const size_t top = std::min(ranking.size(), static_cast<size_t>(std::max(k, 0)));
    std::unordered_set<std::string_view> recalled;
    for (size_t i = 0; i < top; ++i) {
        assert(ranking[i] >= 0 && static_cast<size_t>(ranking[i]) < corpus_ids.size());
        recalled.insert(corpus_ids[static_cast<size_t>(ranking[i])]);
    }
    CutoffScores s;
    bool any = false;
    bool all = true;
    for (const auto& g : gold) {
        bool hit = recalled.count(g) != 0;
        any = any || hit;
        all = all && hit;
    }
    s.recall_any = any ? 1 : 0;
    s.recall_all = all ? 1 : 0;

    std::unordered_set<std::string_view> gold_set(gold.begin(), gold.end());
    std::vector<double> relevances(corpus_ids.size());
    for (size_t i = 0; i < corpus_ids.size(); ++i) relevances[i] = gold_set.count(corpus_ids[i]) ? 1.0 : 0.0;
    std::vector<double> ranked;
    ranked.reserve(top);
    for (size_t i = 0; i < top; ++i) ranked.push_back(relevances[static_cast<size_t>(ranking[i])]);
    std::vector<double> ideal = relevances;
    std::sort(ideal.begin(), ideal.end(), std::greater<double>());
    double ideal_dcg = dcg(ideal, k);
    s.ndcg_any = ideal_dcg == 0 ? 0 : dcg(ranked, k) / ideal_dcg;
    return s;
}

CutoffScores evaluate_retrieval_turn2session(std::span<const int> ranking, const std::vector<std::string>& gold,
                                             const std::vector<std::string>& corpus_ids, int k) {
    std::set<std::string> gold_sessions;
    for (const auto& g : gold) gold_sessions.insert(strip_turn_id(g));
    std::vector<std::string> session_ids;
    session_ids.reserve(corpus_ids.size());
    for (const auto& id : corpus_ids) session_ids.push_back(strip_turn_id(id));

    // Grow k until k distinct sessions are among the first effective_k ranked turns (official loop, including its
    // bound effective_k <= len(corpus_ids), which lets effective_k reach len + 1).
    int effective_k = k;
    auto distinct_in_top = [&](int kk) {
        std::unordered_set<std::string_view> seen;
        size_t top = std::min(ranking.size(), static_cast<size_t>(std::max(kk, 0)));
        for (size_t i = 0; i < top; ++i) seen.insert(session_ids[static_cast<size_t>(ranking[i])]);
        return static_cast<int>(seen.size());
    };
    while (effective_k <= static_cast<int>(session_ids.size()) && distinct_in_top(effective_k) < k) ++effective_k;
    return evaluate_retrieval(ranking, std::vector<std::string>(gold_sessions.begin(), gold_sessions.end()),
                              session_ids, effective_k);
}

MetricMap score_ranking(std::span<const int> ranking, const std::vector<std::string>& gold,
                        const std::vector<std::string>& corpus_ids) {
    MetricMap out;
    for (int k : kRetrievalCutoffs) put(&out, k, evaluate_retrieval(ranking, gold, corpus_ids, k));
    return out;
}

MetricMap score_ranking_turn2session(std::span<const int> ranking, const std::vector<std::string>& gold,
                                     const std::vector<std::string>& corpus_ids) {
    MetricMap out;
    for (int k : kRetrievalCutoffs) put(&out, k, evaluate_retrieval_turn2session(ranking, gold, corpus_ids, k));
    return out;
}

const std::vector<std::string>& retrieval_metric_names() {
    static const std::vector<std::string> kNames = [] {
        std::vector<std::string> v;
        for (int k : kRetrievalCutoffs) {
            for (const char* m : {"recall_any", "recall_all", "ndcg_any"})
                v.push_back(std::string(m) + "@" + std::to_string(k));
        }
        return v;
    }();
    return kNames;
}

}  // namespace kasten::eval
