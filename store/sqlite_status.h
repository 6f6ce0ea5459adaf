#pragma once

#include <string_view>

#include "common/status.h"

namespace kasten::store {

// Maps an SQLite (extended) result code to a Status:
//   BUSY, LOCKED                         -> kBusy
//   CORRUPT, NOTADB                      -> kCorruption
//   CANTOPEN, READONLY                   -> kIOError
//   FULL, IOERR, NOMEM                   -> kInsufficientStorage (HTTP 507: retry once space is freed)
//   CONSTRAINT_UNIQUE/PRIMARYKEY/ROWID   -> kAlreadyExists
//   other CONSTRAINT, TOOBIG, RANGE, MISMATCH -> kInvalidArgument
//   anything else                        -> kInternal
// The message is "<context>: <detail> (<sqlite code name>)". `rc` must not be SQLITE_OK/ROW/DONE.
Status status_from_sqlite(int rc, std::string_view context, std::string_view detail);

}  // namespace kasten::store
