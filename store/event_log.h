#pragma once

#include <cstdint>
#include <vector>

#include "common/result.h"
#include "common/status.h"
#include "store/records.h"

namespace kasten::store {

class Database;

// The append-only audit log (events table). Events are not tied to an existing cube by a foreign key, so a cube's
// deletion can itself be logged; CubeStore::remove erases a cube's earlier events. Every method is one statement
// and opens no transaction. Not thread-safe (see Database).
class EventLog {
  public:
    explicit EventLog(Database& db) : db_(db) {}

    // Appends the event (event.seq is ignored) and returns its seq: strictly increasing across the whole store,
    // never reused, even after deletions.
    Result<std::int64_t> append(const EventRecord& event);
    // The cube's events with seq > after_seq, ascending, at most `limit` (limit < 0 means no limit).
    Result<std::vector<EventRecord>> list(const std::string& cube_id, std::int64_t after_seq, std::int64_t limit);
    // Events of every cube with seq > after_seq, ascending, at most `limit` (limit < 0 means no limit). Used to find
    // what changed after an index's last commit.
    Result<std::vector<EventRecord>> list_all(std::int64_t after_seq, std::int64_t limit);

  private:
    Database& db_;
};

}  // namespace kasten::store
