#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/result.h"
#include "common/status.h"
#include "store/records.h"

namespace kasten::store {

class Database;

// Row counts of one cube.
struct CubeStats {
    std::int64_t sessions = 0;
    std::int64_t turns = 0;
    std::int64_t notes = 0;
    std::int64_t links = 0;
};

// The cubes table. Opens no transaction of its own except remove(), which is atomic by itself (a savepoint when
// the caller has a Transaction open). Not thread-safe (see Database).
class CubeStore {
  public:
    explicit CubeStore(Database& db) : db_(db) {}

    // kInvalidArgument when the id is not [A-Za-z0-9._:-]{1,128}; kAlreadyExists when the id is taken.
    Status create(const CubeRecord& cube);
    // kNotFound when absent.
    Result<CubeRecord> get(const std::string& cube_id);
    // All cubes, by id.
    Result<std::vector<CubeRecord>> list();
    // How many cubes there are.
    Result<std::int64_t> count();
    // kNotFound when absent.
    Status set_embedder(const std::string& cube_id, const std::string& embedder_id);
    // Deletes the cube and every row of it in every table (sessions, turns, notes, note_versions, links, events,
    // kv_segments, jobs); other cubes are untouched. kNotFound when absent.
    Status remove(const std::string& cube_id);
    // kNotFound when absent.
    Result<CubeStats> stats(const std::string& cube_id);

  private:
    Status check_exists(const std::string& cube_id);

    Database& db_;
};

}  // namespace kasten::store
