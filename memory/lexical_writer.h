#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <thread>

#include "common/status.h"
#include "retrieval/lexical_index.h"
#include "retrieval/unit.h"

namespace kasten::memory {

// Applies pre-analysed lexical upserts to a LexicalIndex, in the order they are enqueued (= event order).
//
// In background mode one worker thread does the Xapian B-tree work, so the SQLite and embedding work of the next add
// overlaps it; the queue is bounded (enqueue waits when full) and the worker commits every `commit_every` units with
// the watermark = the event seq of the last applied task. In synchronous mode (in-memory stores) enqueue applies the
// upsert at once and never commits. Tasks lost in a crash lie past the committed watermark; the owner re-indexes
// them at the next open.
//
// Thread safety: enqueue must be called by one writer at a time (the owner's store lock keeps event order); drain
// and failed may be called from any thread.
class LexicalWriter {
  public:
    struct Task {
        retrieval::UnitAttrs attrs;
        retrieval::LexicalIndex::Analysis analysis;
        bool known_new = false;  // see LexicalIndex::upsert_analyzed
        std::int64_t seq = 0;    // the event this task belongs to
    };

    // `index` must outlive the writer. `watermark_key` is the index metadata key the worker commits the seq under.
    LexicalWriter(retrieval::LexicalIndex& index, bool background, std::int64_t commit_every,
                  std::string watermark_key);
    // Applies whatever is queued, then stops the worker.
    ~LexicalWriter();
    LexicalWriter(const LexicalWriter&) = delete;
    LexicalWriter& operator=(const LexicalWriter&) = delete;

    bool background() const { return background_; }
    // Queues (or applies) one upsert. Errors are returned only in synchronous mode; in background mode they are
    // logged and make failed() true.
    [[nodiscard]] Status enqueue(Task task);
    // Waits until every queued task is applied.
    void drain();
    // True once a background upsert has failed: the owner must not advance the watermark past it.
    bool failed();

  private:
    void worker_loop();

    static constexpr size_t kMaxQueuedTasks = 20000;
    static constexpr size_t kBatch = 512;

    retrieval::LexicalIndex& index_;
    const bool background_;
    const std::int64_t commit_every_;
    const std::string watermark_key_;

    std::mutex mu_;
    std::condition_variable work_cv_;  // work arrived, or stop
    std::condition_variable idle_cv_;  // the queue drained, or space freed
    std::deque<Task> queue_;
    size_t in_flight_ = 0;
    bool stopping_ = false;
    bool failed_ = false;
    std::int64_t uncommitted_ = 0;  // worker thread only
    std::thread worker_;
};

}  // namespace kasten::memory
