#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/result.h"
#include "common/status.h"
#include "retrieval/unit.h"

namespace kasten::retrieval {

// A cosine-similarity index over unit embeddings, partitioned by (cube, type): a search never sees another cube's or
// another type's units.
//
// Contract shared by every implementation (tests/retrieval/vector_index_contract_test.cc checks it):
// - vectors have exactly dim() float components, all finite; they are L2-normalised on insert (a zero vector is
//   accepted and scores 0 against every query);
// - search returns cosine similarities in [-1, 1], descending, ties broken by ascending id, at most k hits, only
//   units of filter.cube_id / filter.type that pass the filter's time range (inclusive), role and session;
// - the index is derived data held in memory; it is rebuilt from the store on start.
//
// Thread safety: any number of concurrent const calls (search, size, ids) together with one writer at a time.
class VectorIndex {
  public:
    virtual ~VectorIndex() = default;

    // Number of components of every vector.
    virtual int dim() const = 0;

    // Inserts or replaces the vector of (attrs.cube_id, attrs.type, attrs.id) together with its attributes.
    // kInvalidArgument on a wrong dimension, a non-finite component, or an empty cube or unit id.
    [[nodiscard]] virtual Status upsert(const UnitAttrs& attrs, std::span<const float> vec) = 0;
    // Removes one unit; removing a missing one is ok.
    [[nodiscard]] virtual Status remove(const std::string& cube_id, UnitType type, const std::string& id) = 0;
    // Removes every unit of the cube (all types).
    [[nodiscard]] virtual Status remove_cube(const std::string& cube_id) = 0;

    // The k most cosine-similar units to `query` (need not be normalised). kInvalidArgument on a wrong dimension,
    // a non-finite component or an empty cube id; k <= 0 gives an empty list. A zero query scores 0 everywhere.
    [[nodiscard]] virtual Result<std::vector<ScoredId>> search(std::span<const float> query, const SearchFilter& filter,
                                                               int k) const = 0;

    // The cosine of `query` to each of `ids` (units of cube_id / type), parallel to `ids`; nullopt for an id not in
    // the index. Same errors as search().
    [[nodiscard]] virtual Result<std::vector<std::optional<double>>> similarities(
        std::span<const float> query, const std::string& cube_id, UnitType type,
        const std::vector<std::string>& ids) const = 0;

    // Number of units of one cube and type.
    virtual std::uint64_t size(const std::string& cube_id, UnitType type) const = 0;
    // Ids of all units of one cube and type, sorted ascending.
    virtual std::vector<std::string> ids(const std::string& cube_id, UnitType type) const = 0;
};

}  // namespace kasten::retrieval
