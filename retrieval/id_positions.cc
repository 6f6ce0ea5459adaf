#include "retrieval/id_positions.h"

#include <cstring>

namespace kasten::retrieval {

namespace {

std::size_t slots_for(std::size_t ids) {
    std::size_t n = 16;
    while (n < 2 * ids) n *= 2;  // load at most 1/2
    return n;
}

}  // namespace

IdPositions::IdPositions(std::size_t expected) : slots_(slots_for(expected), 0) {
    entries_.reserve(expected);
}

std::uint64_t IdPositions::hash_of(std::string_view id) {
    constexpr std::uint64_t kMul = 0x9E3779B97F4A7C15ull;
    std::uint64_t h = id.size() * kMul;
    std::size_t i = 0;
    for (; i + 8 <= id.size(); i += 8) {
        std::uint64_t chunk;
        std::memcpy(&chunk, id.data() + i, 8);
        h = (h ^ chunk) * kMul;
        h ^= h >> 29;
    }
    if (i < id.size()) {
        std::uint64_t chunk = 0;
        std::memcpy(&chunk, id.data() + i, id.size() - i);
        h = (h ^ chunk) * kMul;
    }
    h ^= h >> 32;
    h *= kMul;
    return h ^ (h >> 29);
}

std::uint32_t IdPositions::insert(std::string_view id, std::uint32_t position) {
    if (2 * (entries_.size() + 1) > slots_.size()) grow();
    const std::uint64_t h = hash_of(id);
    const std::size_t mask = slots_.size() - 1;
    for (std::size_t at = static_cast<std::size_t>(h) & mask;; at = (at + 1) & mask) {
        const std::uint32_t s = slots_[at];
        if (s == 0) {
            entries_.push_back({id, h, position});
            slots_[at] = static_cast<std::uint32_t>(entries_.size());
            return position;
        }
        const Entry& e = entries_[s - 1];
        if (e.hash == h && e.id == id) return e.position;
    }
}

std::uint32_t IdPositions::find(std::string_view id) const {
    const std::uint64_t h = hash_of(id);
    const std::size_t mask = slots_.size() - 1;
    for (std::size_t at = static_cast<std::size_t>(h) & mask;; at = (at + 1) & mask) {
        const std::uint32_t s = slots_[at];
        if (s == 0) return kAbsent;
        const Entry& e = entries_[s - 1];
        if (e.hash == h && e.id == id) return e.position;
    }
}

void IdPositions::grow() {
    std::vector<std::uint32_t> bigger(slots_.size() * 2, 0);
    const std::size_t mask = bigger.size() - 1;
    for (std::size_t i = 0; i < entries_.size(); ++i) {
        std::size_t at = static_cast<std::size_t>(entries_[i].hash) & mask;
        while (bigger[at] != 0) at = (at + 1) & mask;
        bigger[at] = static_cast<std::uint32_t>(i + 1);
    }
    slots_.swap(bigger);
}

}  // namespace kasten::retrieval
