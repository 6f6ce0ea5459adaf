#include "memory/context_credit.h"

#include <algorithm>
#include <cstdlib>
#include <string_view>

#include "retrieval/id_positions.h"

namespace kasten::memory {

namespace {

using retrieval::IdPositions;

// The positions of `fused`'s ids (views: `fused` must outlive the table and keep its ids); a repeated id keeps its
// first, best, position.
IdPositions positions_of(const std::vector<retrieval::FusedHit>& fused) {
    IdPositions positions(fused.size());
    for (std::size_t i = 0; i < fused.size(); ++i) positions.insert(fused[i].id, static_cast<std::uint32_t>(i));
    return positions;
}

double score_or_zero(const std::vector<retrieval::FusedHit>& fused, const IdPositions& positions, std::string_view id) {
    const std::uint32_t at = positions.find(id);
    return at == IdPositions::kAbsent ? 0.0 : fused[at].score;
}

}  // namespace

CreditList neighbour_credit(const std::vector<retrieval::FusedHit>& lenders,
                            std::span<const TurnPlaceIndex::PlaceView> places, int radius) {
    CreditList credit;
    if (radius <= 0) return credit;
    const IdPositions positions = positions_of(lenders);
    // The places by session, then position (a turn's neighbours sit next to it), one per position: the first listed.
    using Place = TurnPlaceIndex::PlaceView;
    std::vector<const Place*> order;
    order.reserve(places.size());
    for (const auto& p : places) order.push_back(&p);
    std::stable_sort(order.begin(), order.end(), [](const Place* a, const Place* b) {
        if (a->session != b->session) return a->session < b->session;
        return a->index < b->index;
    });
    order.erase(
        std::unique(order.begin(), order.end(),
                    [](const Place* a, const Place* b) { return a->index == b->index && a->session == b->session; }),
        order.end());
    std::vector<double> score(order.size());
    for (std::size_t i = 0; i < order.size(); ++i) score[i] = score_or_zero(lenders, positions, order[i]->id);
    auto same_session = [&](std::size_t i, std::size_t j) { return order[i]->session == order[j]->session; };
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
        if (best > 0) credit.emplace_back(order[i]->id, best);
    }
    return credit;
}

Credit neighbour_credit(const std::vector<retrieval::FusedHit>& lenders, const std::vector<store::TurnPlace>& places,
                        int radius) {
    // Sessions numbered by their ids; the places as views.
    std::unordered_map<std::string_view, std::uint32_t> sessions;
    std::vector<TurnPlaceIndex::PlaceView> views;
    views.reserve(places.size());
    for (const auto& p : places) {
        const auto [it, fresh] = sessions.try_emplace(p.session_id, static_cast<std::uint32_t>(sessions.size()));
        views.push_back({p.id, it->second, p.index});
    }
    Credit credit;
    for (const auto& [id, c] : neighbour_credit(lenders, views, radius)) credit.emplace(std::string(id), c);
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
    const IdPositions positions = positions_of(sessions);
    Credit credit;
    for (const auto& p : places) {
        const double s = score_or_zero(sessions, positions, p.session_id);
        if (s > 0) credit[p.id] = s;
    }
    return credit;
}

void add_credit(std::vector<retrieval::FusedHit>& fused, const CreditList& credit, double weight) {
    apply_credit(fused, credit, weight, CreditMode::kAdd);
}

void apply_credit(std::vector<retrieval::FusedHit>& fused, const CreditList& credit, double weight, CreditMode mode) {
    if (credit.empty() || weight <= 0) return;
    // Views of fused's ids, unchanged until the joiners are appended.
    const IdPositions positions = positions_of(fused);
    // Joiners in id order, so that results do not depend on the order of `credit`.
    std::vector<std::pair<std::string_view, double>> joiners;
    for (const auto& [id, c] : credit) {
        const std::uint32_t at = positions.find(id);
        if (at != IdPositions::kAbsent) {
            double& score = fused[at].score;
            score = mode == CreditMode::kAdd ? score + weight * c : std::max(score, weight * c);
        } else {
            joiners.emplace_back(id, weight * c);
        }
    }
    std::sort(joiners.begin(), joiners.end());
    fused.reserve(fused.size() + joiners.size());
    for (const auto& [id, score] : joiners) {
        retrieval::FusedHit h;
        h.id = std::string(id);
        h.score = score;
        fused.push_back(std::move(h));
    }
    std::stable_sort(fused.begin(), fused.end(),
                     [](const retrieval::FusedHit& x, const retrieval::FusedHit& y) { return x.score > y.score; });
}

void add_credit(std::vector<retrieval::FusedHit>& fused, const Credit& credit, double weight) {
    CreditList list;
    list.reserve(credit.size());
    for (const auto& [id, c] : credit) list.emplace_back(id, c);
    add_credit(fused, list, weight);
}

}  // namespace kasten::memory
