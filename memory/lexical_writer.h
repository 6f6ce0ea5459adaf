#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <unordered_map>

#include "common/mutex.h"
#include "common/status.h"
#include "common/thread_annotations.h"
#include "memory/index_write_faults.h"
#include "retrieval/lexical_index.h"
#include "retrieval/unit.h"

namespace kasten::memory {

// Applies lexical index changes (upserts, term additions, removals) to a LexicalIndex in the order they are enqueued
// (= event order).
//
// In background mode one worker thread does the Xapian B-tree work, so neither the writer of the store nor any
// reader does it: the queue is bounded (enqueue waits when full), consecutive term additions to the same unit are
// coalesced into one document update, and the worker commits every `commit_every` changes with the watermark = the
// event seq of the last applied task. In synchronous mode (in-memory stores) enqueue applies the change at once and
// never commits. Tasks lost in a crash lie past the committed watermark; the owner re-indexes them at the next open.
//
// A failed change or commit (a full disk) is reported to `on_failure` and makes failed() true: from then on the
// worker applies changes but never commits, so the committed watermark stays below the first lost change (Xapian
// discards every uncommitted change when a commit fails) until the owner has repaired the index and called
// clear_failure().
//
// Thread safety: enqueue must be called by one writer at a time (the owner's store lock keeps event order); every
// other method may be called from any thread.
class LexicalWriter {
  public:
    enum class Op {
        kUpsert,         // replace the unit's document by `analysis`
        kAddTerms,       // add `analysis` to the unit's document (creating it when absent)
        kRemove,         // remove the unit's document
        kRemoveSession,  // remove every document of session attrs.session_id of attrs.cube_id
        kRemoveCube,     // remove every document of attrs.cube_id
    };
    struct Task {
        retrieval::UnitAttrs attrs;
        retrieval::LexicalIndex::Analysis analysis;
        bool known_new = false;  // kUpsert/kAddTerms: no document of this unit exists yet
        std::int64_t seq = 0;    // the event this task belongs to
        Op op = Op::kUpsert;
    };

    // Called (from the worker, or from enqueue in synchronous mode) with the error and the seq of the event whose
    // change failed (for a failed commit: the seq of the first change it held).
    using FailureFn = std::function<void(const Status& error, std::int64_t seq)>;

    // `index` must outlive the writer. `watermark_key` is the index metadata key the worker commits the seq under.
    // `faults` (may be null) injects write failures.
    LexicalWriter(retrieval::LexicalIndex& index, bool background, std::int64_t commit_every, std::string watermark_key,
                  std::shared_ptr<IndexWriteFaults> faults = nullptr, FailureFn on_failure = {});
    // Applies whatever is queued, then stops the worker.
    ~LexicalWriter();
    LexicalWriter(const LexicalWriter&) = delete;
    LexicalWriter& operator=(const LexicalWriter&) = delete;

    bool background() const { return background_; }
    // Queues (or applies) one change. Errors are returned only in synchronous mode; in background mode they are
    // logged and make failed() true.
    [[nodiscard]] Status enqueue(Task task) EXCLUDES(mu_);
    // Read barrier: waits until every task enqueued before this call is applied (tasks enqueued meanwhile are not
    // waited for, so a reader waits at most for the queue it found, never for a writer that keeps writing).
    void drain() EXCLUDES(mu_);
    // The same for one cube: waits only until the cube's own tasks enqueued before this call are applied, so a
    // search never waits for another tenant's writes.
    void drain_cube(const std::string& cube_id) EXCLUDES(mu_);
    // True once a change or a commit has failed: the owner must not advance the watermark past it.
    bool failed() EXCLUDES(mu_);
    // Makes failed() true without a report (the owner found the index dirty another way): no commit of the worker
    // records a watermark until commit(seq, /*repaired=*/true) succeeds.
    void mark_failed() EXCLUDES(mu_);
    // Commits the index. The watermark `seq` is recorded with it unless a change has failed since the last repair;
    // `repaired` (the owner has re-indexed everything past the committed watermark, with no change queued) records
    // it anyway and, when the commit succeeds, lets later commits record theirs again. A failed commit is reported
    // like a failed change. Serialised with the worker's own commits.
    [[nodiscard]] Status commit(std::int64_t seq, bool repaired = false) EXCLUDES(mu_, commit_mu_);
    // Tasks applied since construction (tests and metrics).
    std::int64_t applied() EXCLUDES(mu_);
    // Document updates saved by coalescing term additions (tests and metrics).
    std::int64_t coalesced() EXCLUDES(mu_);

  private:
    void worker_loop() EXCLUDES(mu_);
    Status apply(const Task& t);
    void report_failure(const Status& error, std::int64_t seq) EXCLUDES(mu_);
    Status commit_locked(std::int64_t seq, bool repaired, std::int64_t first_lost_seq) REQUIRES(commit_mu_)
        EXCLUDES(mu_);

    static constexpr size_t kMaxQueuedTasks = 8192;
    static constexpr int kWorkerNice = 5;  // added to the worker thread's nice value
    static constexpr size_t kBatch = 512;

    retrieval::LexicalIndex& index_;
    const bool background_;
    const std::int64_t commit_every_;
    const std::string watermark_key_;
    const std::shared_ptr<IndexWriteFaults> faults_;
    const FailureFn on_failure_;

    Mutex commit_mu_ ACQUIRED_BEFORE(mu_);
    Mutex mu_;
    std::condition_variable work_cv_;  // work arrived, or stop
    std::condition_variable idle_cv_;  // tasks applied, or space freed
    std::deque<Task> queue_ GUARDED_BY(mu_);
    std::int64_t enqueued_ GUARDED_BY(mu_) = 0;  // tasks enqueued so far
    std::int64_t applied_ GUARDED_BY(mu_) = 0;   // tasks applied (or failed) so far; always <= enqueued_
    std::int64_t coalesced_ GUARDED_BY(mu_) = 0;
    // Per cube, the position (1-based, in enqueue order) of its newest task; entries at or below applied_ are done.
    std::unordered_map<std::string, std::int64_t> last_task_of_cube_ GUARDED_BY(mu_);
    bool stopping_ GUARDED_BY(mu_) = false;
    bool failed_ GUARDED_BY(mu_) = false;
    std::int64_t uncommitted_ = 0;        // worker thread only
    std::int64_t first_uncommitted_ = 0;  // worker thread only: seq of the first change since the last commit
    std::thread worker_;
};

}  // namespace kasten::memory
