#include "memory/aspect_coverage.h"

#include <algorithm>
#include <cmath>
#include <unordered_set>

namespace kasten::memory {

std::vector<QueryAspect> query_aspects(const std::vector<std::string>& terms,
                                       const std::vector<std::uint64_t>& frequencies, std::uint64_t documents) {
    std::vector<QueryAspect> aspects;
    std::unordered_set<std::string> seen;
    double total = 0;
    for (std::size_t i = 0; i < terms.size() && i < frequencies.size(); ++i) {
        const double df = static_cast<double>(frequencies[i]);
        if (df <= 0 || !seen.insert(terms[i]).second) continue;
        const double n = static_cast<double>(std::max(documents, frequencies[i]));
        const double idf = std::log(1.0 + (n - df + 0.5) / (df + 0.5));
        if (idf <= 0) continue;
        aspects.push_back({terms[i], idf});
        total += idf;
    }
    if (aspects.size() < 2) return {};
    for (auto& a : aspects) a.weight /= total;
    return aspects;
}

void rerank_by_aspect_coverage(std::vector<retrieval::FusedHit>& fused, const std::vector<QueryAspect>& aspects,
                               const std::vector<std::vector<std::string>>& unit_terms, double weight) {
    if (weight <= 0 || aspects.empty() || fused.empty()) return;
    const std::size_t depth = std::min(fused.size(), unit_terms.size());
    double top = 0;
    for (const auto& h : fused) top = std::max(top, h.score);
    if (top <= 0 || depth < 2) return;
    // covers[i][a]: unit i holds aspect a.
    std::vector<std::vector<char>> covers(depth, std::vector<char>(aspects.size(), 0));
    for (std::size_t i = 0; i < depth; ++i) {
        const std::unordered_set<std::string> terms(unit_terms[i].begin(), unit_terms[i].end());
        for (std::size_t a = 0; a < aspects.size(); ++a) covers[i][a] = terms.count(aspects[a].term) ? 1 : 0;
    }
    std::vector<char> covered(aspects.size(), 0);
    std::vector<char> placed(depth, 0);
    std::vector<retrieval::FusedHit> order;
    order.reserve(depth);
    for (std::size_t step = 0; step < depth; ++step) {
        std::size_t best = depth;
        double best_value = -1;
        for (std::size_t i = 0; i < depth; ++i) {
            if (placed[i]) continue;
            double gain = 0;
            for (std::size_t a = 0; a < aspects.size(); ++a) {
                if (covers[i][a] && !covered[a]) gain += aspects[a].weight;
            }
            const double value = fused[i].score / top + weight * gain;
            if (value > best_value) {
                best_value = value;
                best = i;
            }
        }
        placed[best] = 1;
        for (std::size_t a = 0; a < aspects.size(); ++a) {
            if (covers[best][a]) covered[a] = 1;
        }
        retrieval::FusedHit h = fused[best];
        h.score = top * best_value;
        order.push_back(std::move(h));
    }
    std::move(order.begin(), order.end(), fused.begin());
}

}  // namespace kasten::memory
