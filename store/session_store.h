#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/result.h"
#include "common/status.h"
#include "store/records.h"

namespace kasten::store {

class Database;

// The sessions table. Every method is one statement and opens no transaction (callers wrap several calls in one
// Transaction). Not thread-safe (see Database).
class SessionStore {
  public:
    explicit SessionStore(Database& db) : db_(db) {}

    // kNotFound when the cube does not exist; kAlreadyExists when the id, or the external id within the cube, is
    // taken.
    Status insert(const SessionRecord& session);
    // kNotFound when absent from this cube.
    Result<SessionRecord> get(const std::string& cube_id, const std::string& id);
    Result<SessionRecord> get_by_external(const std::string& cube_id, const std::string& external_id);
    // Ordered by (started_at, id). limit < 0 means no limit; offset < 0 counts as 0.
    Result<std::vector<SessionRecord>> list(const std::string& cube_id, std::int64_t limit, std::int64_t offset);
    // The session's key state (empty sums when never written, e.g. sessions of schema version < 4). kNotFound when
    // absent.
    Result<SessionKeyState> key_state(const std::string& cube_id, const std::string& id);
    // Writes the session's embedding together with the key state it was derived from (embedder_id from `key`).
    // kNotFound when absent.
    Status update_key(const std::string& cube_id, const std::string& id, const std::vector<float>& embedding,
                      const SessionKeyState& key);
    // An empty vector clears the embedding. Clears the key state (it no longer matches). kNotFound when absent.
    Status update_embedding(const std::string& cube_id, const std::string& id, const std::vector<float>& embedding,
                            const std::string& embedder_id);
    Status set_started_at(const std::string& cube_id, const std::string& id, TimeMs started_at);
    Status set_summary(const std::string& cube_id, const std::string& id, const std::string& summary);
    // Deletes the session and (cascade) its turns. kNotFound when absent.
    Status remove(const std::string& cube_id, const std::string& id);
    Result<std::int64_t> count(const std::string& cube_id);

  private:
    Result<SessionRecord> get_one(const char* sql, const std::string& cube_id, const std::string& key);

    Database& db_;
};

}  // namespace kasten::store
