#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/mutex.h"
#include "common/result.h"
#include "common/thread_annotations.h"
#include "memory/repositories.h"

namespace kasten::memory {

class StoreWriter;

// Read-only access to the store for any number of threads. For a database file: a fixed set of read-only SQLite
// connections (WAL: each read sees the last committed state and never waits for the writer); a lease takes a free
// one, waiting only when all are leased. For an in-memory store (one private connection): leases share the writer's
// connection under the writer's lock.
class ReaderPool {
  public:
    // `connections` >= 1 read-only connections to the database file the writer opened.
    static Result<std::unique_ptr<ReaderPool>> open(const std::string& path, int connections);
    // Leases share `writer`'s connection (in-memory stores). `writer` must outlive the pool.
    static std::unique_ptr<ReaderPool> shared_with(StoreWriter& writer);
    ~ReaderPool();
    ReaderPool(const ReaderPool&) = delete;
    ReaderPool& operator=(const ReaderPool&) = delete;

    // A leased connection with its repositories; handed back on destruction. Must not be held while taking the
    // writer's lock (in-memory stores would deadlock): lease, read, release.
    class Lease {
      public:
        Lease(Lease&& other) noexcept;
        Lease& operator=(Lease&&) = delete;
        Lease(const Lease&) = delete;
        ~Lease();
        Repositories* operator->() { return repos_; }
        Repositories& operator*() { return *repos_; }
        // From here until the lease is handed back, its reads see one committed state of the store (one read
        // transaction), and each statement skips starting a transaction of its own: for a lease that reads many
        // rows. A no-op for in-memory stores (whose leases hold the writer's lock). Must not be combined with an
        // explicit BEGIN on the same lease.
        [[nodiscard]] Status read_snapshot();

      private:
        friend class ReaderPool;
        Lease(ReaderPool* pool, Repositories* repos, std::unique_lock<std::mutex> shared) noexcept;
        ReaderPool* pool_;
        Repositories* repos_;
        std::unique_lock<std::mutex> shared_;  // held for in-memory stores: the writer's lock
        bool snapshot_ = false;                // read_snapshot() began a transaction: ended on hand-back
    };
    Lease lease();

  private:
    ReaderPool() = default;
    void give_back(Repositories* repos) EXCLUDES(mu_);

    struct Connection {
        std::unique_ptr<store::Database> db;
        std::unique_ptr<Repositories> repos;
    };
    std::vector<Connection> connections_;
    StoreWriter* shared_writer_ = nullptr;

    Mutex mu_;
    std::condition_variable free_cv_;
    std::vector<Repositories*> free_ GUARDED_BY(mu_);
};

}  // namespace kasten::memory
