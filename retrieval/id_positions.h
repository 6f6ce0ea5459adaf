#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace kasten::retrieval {

// The position of each id in a list (a search's candidates), for lookups by id while the list is re-scored: open
// addressing over views of the ids, each hashed once, in two flat arrays (a search's few hundred ids cost two
// allocations instead of a node each). The viewed ids must outlive the table. Not thread-safe.
class IdPositions {
  public:
    static constexpr std::uint32_t kAbsent = ~std::uint32_t{0};

    // Room for `expected` ids without growing.
    explicit IdPositions(std::size_t expected = 0);

    // Records `id` at `position` unless it is recorded already; returns the position it holds (the first recorded).
    std::uint32_t insert(std::string_view id, std::uint32_t position);
    // The position of `id`, or kAbsent.
    std::uint32_t find(std::string_view id) const;
    std::size_t size() const { return entries_.size(); }

  private:
    struct Entry {
        std::string_view id;
        std::uint64_t hash = 0;
        std::uint32_t position = 0;
    };
    static std::uint64_t hash_of(std::string_view id);
    void grow();

    std::vector<Entry> entries_;
    std::vector<std::uint32_t> slots_;  // index into entries_ + 1; 0 = empty; size a power of two
};

}  // namespace kasten::retrieval
