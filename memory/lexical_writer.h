#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <string>
#include <thread>
#include <unordered_map>

#include "common/mutex.h"
#include "common/status.h"
#include "common/thread_annotations.h"
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

    // `index` must outlive the writer. `watermark_key` is the index metadata key the worker commits the seq under.
    LexicalWriter(retrieval::LexicalIndex& index, bool background, std::int64_t commit_every,
                  std::string watermark_key);
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
    // True once a background change has failed: the owner must not advance the watermark past it.
    bool failed() EXCLUDES(mu_);
    // Tasks applied since construction (tests and metrics).
    std::int64_t applied() EXCLUDES(mu_);
    // Document updates saved by coalescing term additions (tests and metrics).
    std::int64_t coalesced() EXCLUDES(mu_);

  private:
    void worker_loop() EXCLUDES(mu_);
    Status apply(const Task& t);

    static constexpr size_t kMaxQueuedTasks = 8192;
    static constexpr size_t kBatch = 512;

    retrieval::LexicalIndex& index_;
    const bool background_;
    const std::int64_t commit_every_;
    const std::string watermark_key_;

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
    std::int64_t uncommitted_ = 0;  // worker thread only
    std::thread worker_;
};

}  // namespace kasten::memory
