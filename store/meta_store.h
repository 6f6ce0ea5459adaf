#pragma once

#include <optional>
#include <string>

#include "common/result.h"
#include "common/status.h"

namespace kasten::store {

class Database;

// The meta table: store-wide string values (e.g. index watermarks), not tied to a cube. Every method is one
// statement and opens no transaction. Not thread-safe (see Database).
class MetaStore {
  public:
    explicit MetaStore(Database& db) : db_(db) {}

    // nullopt when the key is unset.
    Result<std::optional<std::string>> get(const std::string& key);
    // Inserts or replaces.
    Status set(const std::string& key, const std::string& value);

  private:
    Database& db_;
};

}  // namespace kasten::store
