#pragma once

#include <string>
#include <vector>

#include "common/result.h"
#include "common/status.h"
#include "store/records.h"

namespace kasten::store {

class Database;

// The links table: directed, typed edges between two notes of the same cube, unique per (src, dst, relation).
// Links vanish with either note (cascade). Every method is one statement and opens no transaction.
// Not thread-safe (see Database).
class LinkStore {
  public:
    explicit LinkStore(Database& db) : db_(db) {}

    // Inserts the link, or, when (src, dst, relation) exists, replaces its weight and reason (created_at keeps the
    // first value). kNotFound when either note is not in link.cube_id; kInvalidArgument for a self-link.
    Status upsert(const LinkRecord& link);
    // kNotFound when absent.
    Status remove(const std::string& cube_id, const std::string& src_note_id, const std::string& dst_note_id,
                  const std::string& relation);
    // Links with `note_id` at either end, by (created_at, src, dst, relation).
    Result<std::vector<LinkRecord>> list_for_note(const std::string& cube_id, const std::string& note_id);
    // Every link of the cube, by (created_at, src, dst, relation).
    Result<std::vector<LinkRecord>> list(const std::string& cube_id);

  private:
    Database& db_;
};

}  // namespace kasten::store
