#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "retrieval/vector_index.h"
#include "retrieval/writer_priority_mutex.h"

namespace kasten::retrieval {

// Exact (brute-force) cosine search, one contiguous row-major float32 matrix per (cube, type) partition, beside a
// half-precision copy of it (HalfRows). A search scans the halves (half the floats' bytes), keeps the rows whose error
// interval (about 3e-4 wide) reaches the k-th best lower bound, and rescores those from the floats: results and
// scores are exactly those of a float32 scan. Memory: dim * 6 + 4 bytes per unit plus its id
// and attributes. Thread safety: see VectorIndex; each partition has its own readers/writer lock, so writes to one
// cube never wait for, or stall, searches of another.
class FlatVectorIndex final : public VectorIndex {
  public:
    // dim must be positive (programmer error otherwise).
    explicit FlatVectorIndex(int dim);
    ~FlatVectorIndex() override;

    int dim() const override { return dim_; }
    [[nodiscard]] Status upsert(const UnitAttrs& attrs, std::span<const float> vec) override;
    [[nodiscard]] Status remove(const std::string& cube_id, UnitType type, const std::string& id) override;
    [[nodiscard]] Status remove_cube(const std::string& cube_id) override;
    [[nodiscard]] Result<std::vector<ScoredId>> search(std::span<const float> query, const SearchFilter& filter,
                                                       int k) const override;
    [[nodiscard]] Result<std::vector<std::optional<double>>> similarities(
        std::span<const float> query, const std::string& cube_id, UnitType type,
        const std::vector<std::string>& ids) const override;
    std::uint64_t size(const std::string& cube_id, UnitType type) const override;
    // Vectors of all cubes and types. O(partitions).
    std::uint64_t total_size() const;
    std::vector<std::string> ids(const std::string& cube_id, UnitType type) const override;

  private:
    struct Partition;
    using PartitionKey = std::pair<std::string, UnitType>;

    const Partition* find(const std::string& cube_id, UnitType type) const;

    const int dim_;
    mutable WriterPriorityMutex mu_;  // guards the partition map (not the partitions' contents)
    std::map<PartitionKey, std::unique_ptr<Partition>> partitions_;
};

}  // namespace kasten::retrieval
