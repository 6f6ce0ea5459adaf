#pragma once

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

    Result<AddMessagesResult> add(const AddMessagesRequest& request, bool create_cube_if_missing);
    Status delete_turn(const std::string& cube_id, const std::string& turn_id, const std::string& actor);
    Status delete_session(const std::string& cube_id, const std::string& external_session_id, const std::string& actor);

  private:
    MemoryContext& ctx_;
    NoteJobScheduler& jobs_;
};

}  // namespace kasten::memory
