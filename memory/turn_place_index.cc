#include "memory/turn_place_index.h"

#include <mutex>
#include <unordered_set>

namespace kasten::memory {

void TurnPlaceIndex::put_locked(Cube& cube, const store::TurnPlace& place) {
    auto [sit, fresh] =
        cube.session_ids.try_emplace(place.session_id, static_cast<std::uint32_t>(cube.sessions.size()));
    if (fresh) cube.sessions.push_back(place.session_id);
    const Cube::Spot spot{sit->second, place.index};
    auto [it, inserted] = cube.by_id.try_emplace(place.id, spot);
    if (!inserted) {
        cube.by_spot.erase({it->second.session, it->second.index});
        it->second = spot;
    }
    cube.by_spot[{spot.session, spot.index}] = place.id;
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
    auto spot = cube.by_spot.find({it->second.session, it->second.index});
    if (spot != cube.by_spot.end() && spot->second == turn_id) cube.by_spot.erase(spot);
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

std::vector<store::TurnPlace> TurnPlaceIndex::near(const std::string& cube_id, const std::vector<std::string>& ids,
                                                   int radius) const {
    std::vector<store::TurnPlace> out;
    if (radius < 0) radius = 0;
    std::shared_lock lock(mu_);
    auto cit = cubes_.find(cube_id);
    if (cit == cubes_.end()) return out;
    const Cube& cube = cit->second;
    std::unordered_set<std::string_view> seen;
    for (const auto& id : ids) {
        auto it = cube.by_id.find(id);
        if (it == cube.by_id.end()) continue;
        const auto [session, index] = it->second;
        // By position number (a deleted turn leaves a gap; positions are never renumbered).
        auto n = cube.by_spot.lower_bound({session, index - radius});
        for (; n != cube.by_spot.end() && n->first.first == session && n->first.second <= index + radius; ++n) {
            if (!seen.insert(n->second).second) continue;
            out.push_back(store::TurnPlace{n->second, cube.sessions[session], n->first.second});
        }
    }
    return out;
}

std::size_t TurnPlaceIndex::size(const std::string& cube_id) const {
    std::shared_lock lock(mu_);
    auto cit = cubes_.find(cube_id);
    return cit == cubes_.end() ? 0 : cit->second.by_id.size();
}

}  // namespace kasten::memory
