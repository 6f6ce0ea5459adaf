#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "common/clock.h"
#include "llm/embedder.h"
#include "memory/idle_helper.h"
#include "memory/index_sync.h"
#include "memory/memory_types.h"
#include "memory/reader_pool.h"
#include "memory/recall_queue.h"
#include "memory/store_writer.h"

namespace kasten::memory {

// What the parts of a MemoryManager share: its options, clock and embedder, the store (one writer, a pool of
// readers), the queue of note recalls, the indexes, and the counters /metrics reports. Built by MemoryManager::open;
// every part holds a reference to it.
struct MemoryContext {
    MemoryOptions options;
    const Clock* clock = nullptr;
    std::shared_ptr<const llm::Embedder> embedder;
    std::string embedder_id;
    RecallQueue recalls;
    std::unique_ptr<StoreWriter> writer;
    std::unique_ptr<ReaderPool> readers;
    std::unique_ptr<IndexSync> index;
    // Takes the vector half of a search while the caller runs the lexical half (null on one core: each search runs
    // on its caller's thread alone).
    std::unique_ptr<IdleHelper> helper;
    // Background adds running now (AddMessagesRequest::background): while one runs, a search leaves `helper` alone,
    // so the bulk work keeps the second core (against a busy helper a nice-19 thread would get almost none of it).
    std::atomic<int> background_adds_running{0};

    std::atomic<std::int64_t> turns_added{0};
    std::atomic<std::int64_t> searches{0};
    std::atomic<std::int64_t> jobs_done{0};
    std::atomic<std::int64_t> notes_built{0};
};

// Counts itself in `count` for its lifetime.
class ScopedCount {
  public:
    explicit ScopedCount(std::atomic<int>& count) : count_(count) { count_.fetch_add(1, std::memory_order_relaxed); }
    ~ScopedCount() { count_.fetch_sub(1, std::memory_order_relaxed); }
    ScopedCount(const ScopedCount&) = delete;
    ScopedCount& operator=(const ScopedCount&) = delete;

  private:
    std::atomic<int>& count_;
};

// A store kNotFound replaced by one that names what the caller asked for; other results pass through.
inline Status named(Status s, const std::string& what) {
    if (s.code() == StatusCode::kNotFound) return Status::not_found(what + " does not exist");
    return s;
}
template <typename T>
Result<T> named(Result<T> r, const std::string& what) {
    if (!r.is_ok()) return named(r.status(), what);
    return r;
}
inline std::string cube_label(const std::string& cube_id) {
    return "cube '" + cube_id + "'";
}
inline std::string in_cube(const char* kind, const std::string& id, const std::string& cube_id) {
    return std::string(kind) + " '" + id + "' in cube '" + cube_id + "'";
}
inline store::EventRecord event_of(const std::string& cube_id, const std::string& actor, const std::string& action,
                                   const std::string& target_type, const std::string& target_id) {
    store::EventRecord e;
    e.cube_id = cube_id;
    e.actor = actor;
    e.action = action;
    e.target_type = target_type;
    e.target_id = target_id;
    return e;
}

}  // namespace kasten::memory
