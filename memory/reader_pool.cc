#include "memory/reader_pool.h"

#include <utility>

#include "memory/store_writer.h"

namespace kasten::memory {

ReaderPool::Lease::Lease(ReaderPool* pool, Repositories* repos, std::unique_lock<std::mutex> shared) noexcept
    : pool_(pool), repos_(repos), shared_(std::move(shared)) {}

ReaderPool::Lease::Lease(Lease&& other) noexcept
    : pool_(std::exchange(other.pool_, nullptr)),
      repos_(std::exchange(other.repos_, nullptr)),
      shared_(std::move(other.shared_)),
      snapshot_(std::exchange(other.snapshot_, false)) {}

ReaderPool::Lease::~Lease() {
    if (pool_ == nullptr || repos_ == nullptr || shared_.owns_lock()) return;
    if (snapshot_) (void)repos_->db.exec("COMMIT");  // ends a read transaction: cannot lose anything
    pool_->give_back(repos_);
}

Status ReaderPool::Lease::read_snapshot() {
    if (shared_.owns_lock() || snapshot_) return Status::ok();
    KASTEN_RETURN_IF_ERROR(repos_->db.exec("BEGIN"));
    snapshot_ = true;
    return Status::ok();
}

ReaderPool::~ReaderPool() = default;

Result<std::unique_ptr<ReaderPool>> ReaderPool::open(const std::string& path, int connections) {
    std::unique_ptr<ReaderPool> pool(new ReaderPool());
    for (int i = 0; i < std::max(1, connections); ++i) {
        Connection c;
        KASTEN_ASSIGN_OR_RETURN(c.db, store::Database::open_reader(path));
        c.repos = std::make_unique<Repositories>(*c.db);
        pool->connections_.push_back(std::move(c));
    }
    MutexLock lock(pool->mu_);
    for (auto& c : pool->connections_) pool->free_.push_back(c.repos.get());
    return pool;
}

std::unique_ptr<ReaderPool> ReaderPool::shared_with(StoreWriter& writer) {
    std::unique_ptr<ReaderPool> pool(new ReaderPool());
    pool->shared_writer_ = &writer;
    return pool;
}

// The in-memory branch hands out the writer's repositories under the writer's lock, held by the lease itself
// (a std::unique_lock on the native mutex), which the analysis cannot follow.
ReaderPool::Lease ReaderPool::lease() NO_THREAD_SAFETY_ANALYSIS {
    if (shared_writer_ != nullptr) {
        std::unique_lock<std::mutex> lock(shared_writer_->mutex().native());
        return Lease(this, &shared_writer_->repos_locked(), std::move(lock));
    }
    MutexLock lock(mu_);
    lock.wait(free_cv_, [&]() REQUIRES(mu_) { return !free_.empty(); });
    Repositories* r = free_.back();
    free_.pop_back();
    return Lease(this, r, {});
}

void ReaderPool::give_back(Repositories* repos) {
    {
        MutexLock lock(mu_);
        free_.push_back(repos);
    }
    free_cv_.notify_one();
}

}  // namespace kasten::memory
