#include "memory/context_credit.h"

#include <algorithm>
#include <cstdlib>
#include <string_view>

namespace kasten::memory {

namespace {

// Keys view the ids of `fused`, which must outlive the map.
std::unordered_map<std::string_view, double> scores_of(const std::vector<retrieval::FusedHit>& fused) {
    std::unordered_map<std::string_view, double> scores;
    scores.reserve(fused.size());
    for (const auto& h : fused) scores.emplace(h.id, h.score);  // a repeated id keeps its first, best, score
    return scores;
}

double score_or_zero(const std::unordered_map<std::string_view, double>& scores, std::string_view id) {
    auto it = scores.find(id);
    return it == scores.end() ? 0.0 : it->second;
}

}  // namespace

Credit neighbour_credit(const std::vector<retrieval::FusedHit>& lenders, const std::vector<store::TurnPlace>& places,
                        int radius) {
    Credit credit;
    if (radius <= 0) return credit;
    const auto scores = scores_of(lenders);
    // The places by session, then position (a turn's neighbours sit next to it), one per position: the first listed.
    std::vector<const store::TurnPlace*> order;
    order.reserve(places.size());
    for (const auto& p : places) order.push_back(&p);
    std::stable_sort(order.begin(), order.end(), [](const store::TurnPlace* a, const store::TurnPlace* b) {
        if (const int c = a->session_id.compare(b->session_id); c != 0) return c < 0;
        return a->index < b->index;
    });
    order.erase(std::unique(order.begin(), order.end(),
                            [](const store::TurnPlace* a, const store::TurnPlace* b) {
                                return a->index == b->index && a->session_id == b->session_id;
                            }),
                order.end());
    std::vector<double> score(order.size());
    for (std::size_t i = 0; i < order.size(); ++i) score[i] = score_or_zero(scores, order[i]->id);
    auto same_session = [&](std::size_t i, std::size_t j) { return order[i]->session_id == order[j]->session_id; };
    credit.reserve(order.size());
    for (std::size_t i = 0; i < order.size(); ++i) {
        const int index = order[i]->index;
        double best = 0;
        for (std::size_t j = i; j-- > 0 && same_session(i, j) && order[j]->index >= index - radius;) {
            best = std::max(best, score[j]);
        }
        for (std::size_t j = i + 1; j < order.size() && same_session(i, j) && order[j]->index <= index + radius; ++j) {
            best = std::max(best, score[j]);
        }
        if (best > 0) credit[order[i]->id] = best;
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
    std::unordered_map<std::string_view, std::size_t> position;  // views of fused's ids, unchanged until the joiners
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
