#pragma once

#include <functional>
#include <string>

#include "common/result.h"
#include "memory/memory_context.h"
#include "memory/note_job_scheduler.h"

namespace kasten::memory {

// Writes conversations: appends turns to sessions (creating cube and session as needed), deletes turns and
// sessions. An append costs O(new turns): embedding and text analysis run before the writer lock, and the session's
// key is updated from its running sums (SessionKey), never recomputed from the whole session. Thread-safe.
class ConversationWriter {
  public:
    ConversationWriter(MemoryContext& ctx, NoteJobScheduler& jobs) : ctx_(ctx), jobs_(jobs) {}

    // Runs `task` somewhere and returns once it has run (e.g. on a BackgroundLane).
    using RunFn = std::function<void(const std::function<void()>& task)>;

    // `run_unlocked` (optional) runs text analysis and embedding — most of an add's CPU, and no lock held longer
    // than a stem-cache lookup — instead of the calling thread; ids, the store transaction and the index updates
    // stay on the caller.
    Result<AddMessagesResult> add(const AddMessagesRequest& request, bool create_cube_if_missing,
                                  const RunFn& run_unlocked = {});
    Status delete_turn(const std::string& cube_id, const std::string& turn_id, const std::string& actor);
    Status delete_session(const std::string& cube_id, const std::string& external_session_id, const std::string& actor);

  private:
    MemoryContext& ctx_;
    NoteJobScheduler& jobs_;
};

}  // namespace kasten::memory
