#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "common/clock.h"
#include "common/mutex.h"
#include "common/result.h"
#include "common/thread_annotations.h"
#include "memory/recall_queue.h"
#include "memory/repositories.h"
#include "store/records.h"

namespace kasten::memory {

// The store's single writer: one SQLite connection (the source of truth), every repository over it, and the one way
// to change it. Every mutation is commit(): one transaction holding the change and its audit event, so the store and
// the event log never disagree, and the event's seq orders everything derived from it (index updates, the index
// watermark, recovery).
//
// Thread safety: commit() and locked() serialise on the writer lock; nothing slow (embedding, text analysis, Xapian
// work) should run inside them. Readers do not use this lock (see ReaderPool), except for in-memory stores.
class StoreWriter {
  public:
    // `path` is a database file or ":memory:". `clock` and `recalls` must outlive the writer.
    static Result<std::unique_ptr<StoreWriter>> open(const std::string& path, const Clock& clock, RecallQueue& recalls);
    StoreWriter(const StoreWriter&) = delete;
    StoreWriter& operator=(const StoreWriter&) = delete;

    // Writes the change: `event` names it (cube_id, actor, action, target_type, target_id, detail_json; `at` is set
    // here). In one transaction: queued recalls are applied, write(repos, event) runs (and may complete the event's
    // detail), the event is appended; then, still under the lock, after(seq) runs — index changes are queued there,
    // so they reach the indexes in event order. Returns the event's seq. An error anywhere rolls everything back and
    // after() does not run.
    using WriteFn = std::function<Status(Repositories&, store::EventRecord&)>;
    using AfterFn = std::function<void(std::int64_t seq)>;
    Result<std::int64_t> commit(store::EventRecord event, const WriteFn& write, const AfterFn& after = {})
        EXCLUDES(mu_);

    // Runs fn(repos) under the writer lock without an event (job bookkeeping; reads that must not race a write).
    template <typename F>
    auto locked(F&& fn) EXCLUDES(mu_) {
        MutexLock lock(mu_);
        return fn(*repos_);
    }

    // Applies queued recalls now (flush, close).
    [[nodiscard]] Status flush_recalls() EXCLUDES(mu_);
    // The seq of the newest committed event (0 before the first).
    std::int64_t last_seq() const { return last_seq_.load(); }
    bool in_memory() const { return in_memory_; }
    const std::string& path() const { return path_; }
    const Clock& clock() const { return clock_; }

    // For ReaderPool over an in-memory store: its reads share this connection under this lock.
    Mutex& mutex() RETURN_CAPABILITY(mu_) { return mu_; }
    Repositories& repos_locked() REQUIRES(mu_) { return *repos_; }

  private:
    StoreWriter(std::unique_ptr<store::Database> db, const Clock& clock, RecallQueue& recalls, std::string path);

    Mutex mu_;
    std::unique_ptr<store::Database> db_;
    std::unique_ptr<Repositories> repos_ PT_GUARDED_BY(mu_);
    const Clock& clock_;
    RecallQueue& recalls_;
    const std::string path_;
    const bool in_memory_;
    std::atomic<std::int64_t> last_seq_{0};
};

}  // namespace kasten::memory
