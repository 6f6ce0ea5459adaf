#pragma once

#include "common/result.h"
#include "common/status.h"

namespace kasten::store {

class Database;

// Version of the schema this build writes (PRAGMA user_version). Bump it and append a migration in schema.cc for
// every schema change; never edit a released migration.
inline constexpr int kSchemaVersion = 4;

// Brings `db` from its current user_version up to kSchemaVersion, each migration step in its own transaction
// (the version is re-read under the write lock, so concurrent openers do not migrate twice).
// kNotSupported when the database was written by a newer build (user_version > kSchemaVersion).
// Called by Database::open; must not be called inside a transaction.
Status migrate(Database& db);

// kNotSupported when the database was written by a newer build; reads only.
Status check_schema_supported(Database& db);

// The database's PRAGMA user_version.
Result<int> schema_version(Database& db);

}  // namespace kasten::store
