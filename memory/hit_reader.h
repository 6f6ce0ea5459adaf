#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "common/result.h"
#include "memory/hit_cache.h"
#include "memory/lazy_lease.h"

namespace kasten::memory {

// One search's reads of what it shows — that its cube exists, a turn (session, role, text, time), a session's
// external id, a note's index text — from the hit cache first and from the search's lazily taken read snapshot on a
// miss; what a miss reads is cached unless the cube changed since the search took its epoch (HitCache). A unit the
// store does not have, or fails to read, is nullopt (the search leaves it out, like a unit deleted after its index
// entry was read); an error is returned only when the snapshot cannot be taken.
class HitReader {
  public:
    // `epoch` is cache.epoch(cube_id), taken before `store`'s snapshot began. Both must outlive the reader.
    HitReader(HitCache& cache, LazyLease& store, std::string cube_id, std::uint64_t epoch);

    // ok, or the store's error for the cube (kNotFound when there is no such cube).
    [[nodiscard]] Status cube_exists();
    Result<std::optional<HitCache::Turn>> turn(const std::string& turn_id);
    Result<std::optional<std::string>> session_external_id(const std::string& session_id);
    // The note's index text analysed and packed (what a note's calibrated score reads); null when there is no
    // such note. A miss reads the store and caches the text with it.
    Result<std::shared_ptr<const retrieval::TermBag>> note_terms(const std::string& note_id);
    // The snapshot itself, for reads the cache does not hold.
    LazyLease& store() { return store_; }

  private:
    HitCache& cache_;
    LazyLease& store_;
    const std::string cube_id_;
    const std::uint64_t epoch_;
};

}  // namespace kasten::memory
