#include "memory/turn_place_index.h"

#include <algorithm>
#include <mutex>

namespace kasten::memory {

namespace {

// The first entry of a session's row (ascending by position) at position >= index.
template <class Row>
auto lower(Row& row, int index) {
    return std::lower_bound(row.begin(), row.end(), index, [](const auto& e, int i) { return e.index < i; });
}

}  // namespace

void TurnPlaceIndex::put_locked(Cube& cube, const store::TurnPlace& place) {
    auto [sit, fresh] =
        cube.session_ids.try_emplace(place.session_id, static_cast<std::uint32_t>(cube.sessions.size()));
    if (fresh) {
        cube.sessions.push_back(place.session_id);
        cube.rows.emplace_back();
    }
    const Cube::Spot spot{sit->second, place.index};
    auto [it, inserted] = cube.by_id.try_emplace(place.id, spot);
    if (!inserted) {
        erase_entry(cube, it->first, it->second);
        it->second = spot;
    }
    auto& row = cube.rows[spot.session];
    const std::string_view id = it->first;
    if (row.empty() || row.back().index < spot.index) {  // the common case: a session grows at its end
        row.push_back({spot.index, id});
        return;
    }
    auto pos = lower(row, spot.index);
    if (pos != row.end() && pos->index == spot.index) {
        pos->id = id;  // the position's newest turn holds it, as a store row would
    } else {
        row.insert(pos, {spot.index, id});
    }
}

void TurnPlaceIndex::erase_entry(Cube& cube, std::string_view id, Cube::Spot spot) {
    auto& row = cube.rows[spot.session];
    auto pos = lower(row, spot.index);
    if (pos != row.end() && pos->index == spot.index && pos->id == id) row.erase(pos);
}

void TurnPlaceIndex::put(const std::string& cube_id, const store::TurnPlace& place) {
    std::unique_lock lock(mu_);
    put_locked(cubes_[cube_id], place);
}

void TurnPlaceIndex::remove(const std::string& cube_id, const std::string& turn_id) {
    std::unique_lock lock(mu_);
    auto cit = cubes_.find(cube_id);
    if (cit == cubes_.end()) return;
    Cube& cube = cit->second;
    auto it = cube.by_id.find(turn_id);
    if (it == cube.by_id.end()) return;
    erase_entry(cube, it->first, it->second);
    cube.by_id.erase(it);
}

void TurnPlaceIndex::reset_cube(const std::string& cube_id, const std::vector<store::TurnPlace>& places) {
    Cube cube;
    for (const auto& p : places) put_locked(cube, p);
    std::unique_lock lock(mu_);
    cubes_[cube_id] = std::move(cube);
}

void TurnPlaceIndex::remove_cube(const std::string& cube_id) {
    std::unique_lock lock(mu_);
    cubes_.erase(cube_id);
}

template <typename Id>
void TurnPlaceIndex::near_locked(const Cube& cube, const std::vector<Id>& ids, int radius,
                                 std::vector<PlaceView>& out) {
    if (radius < 0) radius = 0;
    const std::size_t most = ids.size() * static_cast<std::size_t>(2 * radius + 1);
    out.reserve(most);
    // The places listed so far, by (session, position): one turn holds a position, so a position listed is a turn
    // listed. Open addressing over at most `most` keys at a load of at most 1/2 (searches list ~100 ids at radius 1;
    // hashing the ids themselves cost more than the rest of this function).
    std::size_t slots = 16;
    while (slots < 2 * most) slots *= 2;
    constexpr std::uint64_t kEmpty = ~std::uint64_t{0};
    std::vector<std::uint64_t> seen(slots, kEmpty);
    auto first_time = [&](std::uint32_t session, int index) {
        const std::uint64_t key = (std::uint64_t{session} << 32) | static_cast<std::uint32_t>(index);
        std::size_t at = static_cast<std::size_t>((key * 0x9E3779B97F4A7C15ull) >> 32) & (slots - 1);
        for (; seen[at] != kEmpty; at = (at + 1) & (slots - 1)) {
            if (seen[at] == key) return false;
        }
        seen[at] = key;
        return true;
    };
    for (const auto& id : ids) {
        auto it = cube.by_id.find(std::string_view(id));
        if (it == cube.by_id.end()) continue;
        const auto [session, index] = it->second;
        // By position number (a deleted turn leaves a gap; positions are never renumbered).
        const auto& row = cube.rows[session];
        auto n = lower(row, index - radius);
        for (; n != row.end() && n->index <= index + radius; ++n) {
            if (!first_time(session, n->index)) continue;
            out.push_back(PlaceView{n->id, session, n->index});
        }
    }
}

std::vector<store::TurnPlace> TurnPlaceIndex::near(const std::string& cube_id, const std::vector<std::string>& ids,
                                                   int radius) const {
    std::vector<store::TurnPlace> out;
    std::shared_lock lock(mu_);
    auto cit = cubes_.find(cube_id);
    if (cit == cubes_.end()) return out;
    const Cube& cube = cit->second;
    std::vector<PlaceView> views;
    near_locked(cube, ids, radius, views);
    out.reserve(views.size());
    for (const auto& v : views) out.push_back(store::TurnPlace{std::string(v.id), cube.sessions[v.session], v.index});
    return out;
}

void TurnPlaceIndex::visit_near(const std::string& cube_id, const std::vector<std::string_view>& ids, int radius,
                                const std::function<void(std::span<const PlaceView>)>& fn) const {
    std::vector<PlaceView> views;
    std::shared_lock lock(mu_);
    auto cit = cubes_.find(cube_id);
    if (cit != cubes_.end()) near_locked(cit->second, ids, radius, views);
    fn(views);
}

std::size_t TurnPlaceIndex::size(const std::string& cube_id) const {
    std::shared_lock lock(mu_);
    auto cit = cubes_.find(cube_id);
    return cit == cubes_.end() ? 0 : cit->second.by_id.size();
}

}  // namespace kasten::memory
