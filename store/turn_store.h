#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "common/result.h"
#include "common/status.h"
#include "store/records.h"

namespace kasten::store {

class Database;

// The turns table: the raw episodic log. Every method is one statement and opens no transaction; bulk inserts are
// fast only inside a caller's Transaction (one fsync per transaction, not per turn). Not thread-safe (see Database).
class TurnStore {
  public:
    explicit TurnStore(Database& db) : db_(db) {}

    // kNotFound when the session does not exist in turn.cube_id; kAlreadyExists when the id or (session, index) is
    // taken.
    Status insert(const TurnRecord& turn);
    // kNotFound when absent from this cube.
    Result<TurnRecord> get(const std::string& cube_id, const std::string& id);
    // The turn's conversation time alone (no record read). kNotFound like get().
    Result<TimeMs> conv_time(const std::string& cube_id, const std::string& id);
    // The turns of `ids` that exist in this cube, in the order of `ids` (missing ids are simply absent).
    Result<std::vector<TurnRecord>> get_many(const std::string& cube_id, const std::vector<std::string>& ids);
    // A session's turns by index (empty when the session has none or does not exist).
    Result<std::vector<TurnRecord>> list_by_session(const std::string& cube_id, const std::string& session_id);
    // The session's turns with from_index <= index <= to_index, by index.
    Result<std::vector<TurnRecord>> list_range(const std::string& cube_id, const std::string& session_id,
                                               int from_index, int to_index);
    // The places of every turn of the cube, by (session, index) (no content read).
    Result<std::vector<TurnPlace>> all_places(const std::string& cube_id);
    // 1 + the highest index of the session, 0 when it has no turns (or does not exist).
    Result<int> next_index(const std::string& cube_id, const std::string& session_id);
    // Ordered by (conv_time, session_id, index). limit < 0 means no limit; offset < 0 counts as 0.
    Result<std::vector<TurnRecord>> list(const std::string& cube_id, std::int64_t limit, std::int64_t offset);
    // Streams every turn of the cube in list() order, one row in memory at a time (the record passed to `fn` is
    // reused between calls). Stops at, and returns, the first error of `fn` or of the store. `fn` may call other
    // store methods (e.g. set_embedding) on the same Database.
    Status for_each(const std::string& cube_id, const std::function<Status(const TurnRecord&)>& fn);
    // An empty vector clears the embedding. kNotFound when absent.
    Status set_embedding(const std::string& cube_id, const std::string& id, const std::vector<float>& embedding,
                         const std::string& embedder_id);
    // kNotFound when absent.
    Status remove(const std::string& cube_id, const std::string& id);
    Result<std::int64_t> count(const std::string& cube_id);
    // Every turn id of the cube, in list() order.
    Result<std::vector<std::string>> ids(const std::string& cube_id);

  private:
    Database& db_;
};

}  // namespace kasten::store
