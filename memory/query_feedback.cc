#include "memory/query_feedback.h"

#include <algorithm>
#include <cmath>
#include <unordered_map>
#include <unordered_set>

namespace kasten::memory {

namespace {

// The index document's length: the sum of its terms' within-document frequencies.
double length_of(const retrieval::LexicalIndex::Analysis& a) {
    double n = 0;
    for (const auto& [term, wdf] : a.terms) n += wdf;
    return n;
}

}  // namespace

std::vector<std::string> feedback_candidates(const std::vector<FeedbackUnit>& units,
                                             const std::vector<std::string>& query_terms, std::size_t min_units) {
    const std::unordered_set<std::string> in_query(query_terms.begin(), query_terms.end());
    std::unordered_map<std::string, std::size_t> holders;
    for (const auto& u : units) {
        if (!u.analysis) continue;
        for (const auto& [term, wdf] : u.analysis->terms) {
            if (!in_query.count(term)) holders[term]++;  // an analysis lists each term once
        }
    }
    std::vector<std::string> out;
    for (const auto& [term, n] : holders) {
        if (n >= std::max<std::size_t>(min_units, 1)) out.push_back(term);
    }
    std::sort(out.begin(), out.end());
    return out;
}

std::vector<FeedbackTerm> rank_feedback_terms(const std::vector<FeedbackUnit>& units,
                                              const std::vector<std::string>& candidates,
                                              const std::vector<std::uint64_t>& frequencies, std::uint64_t documents,
                                              std::size_t most) {
    double total_score = 0;
    for (const auto& u : units) {
        if (u.analysis && u.score > 0) total_score += u.score;
    }
    std::vector<FeedbackTerm> out;
    if (total_score <= 0 || most == 0) return out;
    std::unordered_map<std::string, double> relevance;  // P(t | R)
    for (const auto& u : units) {
        if (!u.analysis || u.score <= 0) continue;
        const double len = length_of(*u.analysis);
        if (len <= 0) continue;
        const double unit_weight = u.score / total_score;
        for (const auto& [term, wdf] : u.analysis->terms) relevance[term] += unit_weight * (wdf / len);
    }
    const double n = static_cast<double>(documents);
    for (std::size_t i = 0; i < candidates.size() && i < frequencies.size(); ++i) {
        if (frequencies[i] == 0) continue;
        auto it = relevance.find(candidates[i]);
        if (it == relevance.end()) continue;
        const double df = static_cast<double>(frequencies[i]);
        const double idf = std::log(1.0 + std::max(0.0, n - df + 0.5) / (df + 0.5));
        out.push_back({candidates[i], it->second * idf});
    }
    std::sort(out.begin(), out.end(), [](const FeedbackTerm& a, const FeedbackTerm& b) {
        if (a.weight != b.weight) return a.weight > b.weight;
        return a.term < b.term;
    });
    if (out.size() > most) out.resize(most);
    return out;
}

}  // namespace kasten::memory
