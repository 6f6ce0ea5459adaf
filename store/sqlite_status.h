#pragma once

#include <string_view>

#include "common/status.h"

namespace kasten::store {

// Maps an SQLite (extended) result code to a Status:
//   BUSY, LOCKED                         -> kBusy
//   CORRUPT, NOTADB                      -> kCorruption
//   IOERR, CANTOPEN, READONLY            -> kIOError
//   FULL, NOMEM                          -> kResourceExhausted
//   CONSTRAINT_UNIQUE/PRIMARYKEY/ROWID   -> kAlreadyExists
//   other CONSTRAINT, TOOBIG, RANGE, MISMATCH -> kInvalidArgument
//   anything else                        -> kInternal
// The message is "<context>: <detail> (<sqlite code name>)". `rc` must not be SQLITE_OK/ROW/DONE.
Status status_from_sqlite(int rc, std::string_view context, std::string_view detail);

}  // namespace kasten::store
