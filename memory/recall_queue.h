#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>

#include "common/clock.h"
#include "common/mutex.h"
#include "common/status.h"
#include "common/thread_annotations.h"

namespace kasten::memory {

struct Repositories;

// Recalls (MemoryBank: a recalled note gets stronger and its last access moves) that searches queue instead of
// writing, so a search is a pure read. The store's writer applies them in batches inside its next transaction
// (StoreWriter::commit) or on flush; until then readers overlay them (overlay()), so a note read after a search
// shows the recall. Thread-safe.
class RecallQueue {
  public:
    struct Recall {
        TimeMs last_access = 0;
        double strength = 0;
    };
    // A recall of note `note_id` at `at`, whose stored (or overlaid) strength was `seen`: the queued strength is
    // refreshed once more from whichever is newer.
    void recall(const std::string& cube_id, const std::string& note_id, TimeMs at, double seen) EXCLUDES(mu_);
    // The queued recall of a note, if any.
    bool overlay(const std::string& cube_id, const std::string& note_id, Recall* out) EXCLUDES(mu_);
    // Writes every queued recall through `repos` (inside the caller's transaction) and empties the queue. Recalls of
    // notes deleted meanwhile are dropped. On error the queue is kept.
    [[nodiscard]] Status apply(Repositories& repos) EXCLUDES(mu_);
    // Forgets the queued recalls of a cube (deleted).
    void forget_cube(const std::string& cube_id) EXCLUDES(mu_);
    std::int64_t size() EXCLUDES(mu_);

  private:
    Mutex mu_;
    std::map<std::pair<std::string, std::string>, Recall> queued_ GUARDED_BY(mu_);
};

}  // namespace kasten::memory
