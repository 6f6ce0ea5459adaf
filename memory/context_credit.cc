#include "memory/context_credit.h"

#include <algorithm>
#include <cstdlib>
#include <map>

namespace kasten::memory {

namespace {

std::unordered_map<std::string, double> scores_of(const std::vector<retrieval::FusedHit>& fused) {
    std::unordered_map<std::string, double> scores;
    scores.reserve(fused.size());
    for (const auto& h : fused) scores.emplace(h.id, h.score);  // a repeated id keeps its first, best, score
    return scores;
}

double score_or_zero(const std::unordered_map<std::string, double>& scores, const std::string& id) {
    auto it = scores.find(id);
    return it == scores.end() ? 0.0 : it->second;
}

}  // namespace

Credit neighbour_credit(const std::vector<retrieval::FusedHit>& lenders, const std::vector<store::TurnPlace>& places,
                        int radius) {
    Credit credit;
    if (radius <= 0) return credit;
    const auto scores = scores_of(lenders);
    // session -> index -> turn id (ordered, so a turn's neighbours are a range)
    std::unordered_map<std::string, std::map<int, const std::string*>> sessions;
    for (const auto& p : places) sessions[p.session_id].emplace(p.index, &p.id);
    for (const auto& [session, turns] : sessions) {
        for (const auto& [index, id] : turns) {
            double best = 0;
            for (auto it = turns.lower_bound(index - radius); it != turns.end() && it->first <= index + radius; ++it) {
                if (it->first != index) best = std::max(best, score_or_zero(scores, *it->second));
            }
            if (best > 0) credit[*id] = best;
        }
    }
    return credit;
}

Credit rollup_credit(const std::vector<retrieval::FusedHit>& turns, const std::vector<store::TurnPlace>& places) {
    std::unordered_map<std::string, const std::string*> session_of;
    session_of.reserve(places.size());
    for (const auto& p : places) session_of.emplace(p.id, &p.session_id);
    Credit credit;
    for (const auto& h : turns) {
        auto it = session_of.find(h.id);
        if (it == session_of.end() || h.score <= 0) continue;
        double& c = credit[*it->second];
        c = std::max(c, h.score);
    }
    return credit;
}

Credit session_credit(const std::vector<retrieval::FusedHit>& sessions, const std::vector<store::TurnPlace>& places) {
    const auto scores = scores_of(sessions);
    Credit credit;
    for (const auto& p : places) {
        const double s = score_or_zero(scores, p.session_id);
        if (s > 0) credit[p.id] = s;
    }
    return credit;
}

void add_credit(std::vector<retrieval::FusedHit>& fused, const Credit& credit, double weight) {
    if (credit.empty() || weight <= 0) return;
    std::unordered_map<std::string, std::size_t> position;
    position.reserve(fused.size());
    for (std::size_t i = 0; i < fused.size(); ++i) position.emplace(fused[i].id, i);
    // Joiners in id order, so results do not depend on the hash map's iteration order.
    std::vector<std::pair<std::string, double>> joiners;
    for (const auto& [id, c] : credit) {
        auto it = position.find(id);
        if (it != position.end()) {
            fused[it->second].score += weight * c;
        } else {
            joiners.emplace_back(id, weight * c);
        }
    }
    std::sort(joiners.begin(), joiners.end());
    for (auto& [id, score] : joiners) {
        retrieval::FusedHit h;
        h.id = std::move(id);
        h.score = score;
        fused.push_back(std::move(h));
    }
    std::stable_sort(fused.begin(), fused.end(),
                     [](const retrieval::FusedHit& x, const retrieval::FusedHit& y) { return x.score > y.score; });
}

}  // namespace kasten::memory
