#pragma once

#include <optional>

#include "common/result.h"
#include "memory/reader_pool.h"
#include "memory/repositories.h"

namespace kasten::memory {

// A reader lease taken on first use, with its read snapshot begun (ReaderPool::Lease::read_snapshot): a search whose
// rows are all in memory (HitCache) takes no connection and starts no read transaction; one that reads the store
// reads one committed state, as with a lease taken up front. Handed back on destruction. Not thread-safe.
class LazyLease {
  public:
    // `pool` must outlive the lease.
    explicit LazyLease(ReaderPool& pool) : pool_(pool) {}
    LazyLease(const LazyLease&) = delete;
    LazyLease& operator=(const LazyLease&) = delete;

    // The leased repositories, taking the lease and beginning its snapshot on the first call.
    Result<Repositories*> get();
    // Whether get() has taken the lease (tests, metrics).
    bool taken() const { return lease_.has_value(); }

  private:
    ReaderPool& pool_;
    std::optional<ReaderPool::Lease> lease_;
};

}  // namespace kasten::memory
