#include "store/sqlite_status.h"

#include <fmt/format.h>
#include <sqlite3.h>

#include <string>

namespace kasten::store {

Status status_from_sqlite(int rc, std::string_view context, std::string_view detail) {
    std::string message = fmt::format("{}: {} (sqlite: {}, code {})", context, detail, sqlite3_errstr(rc), rc);
    switch (rc & 0xff) {
        case SQLITE_BUSY:
        case SQLITE_LOCKED:
            return Status::busy(std::move(message));
        case SQLITE_CORRUPT:
        case SQLITE_NOTADB:
            return Status::corruption(std::move(message));
        case SQLITE_CANTOPEN:
        case SQLITE_READONLY:
            return Status::io_error(std::move(message));
        case SQLITE_IOERR:
        case SQLITE_FULL:
        case SQLITE_NOMEM:
            return Status::insufficient_storage(std::move(message));
        case SQLITE_CONSTRAINT:
            if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY || rc == SQLITE_CONSTRAINT_ROWID) {
                return Status::already_exists(std::move(message));
            }
            return Status::invalid_argument(std::move(message));
        case SQLITE_TOOBIG:
        case SQLITE_RANGE:
        case SQLITE_MISMATCH:
            return Status::invalid_argument(std::move(message));
        default:
            return Status::internal(std::move(message));
    }
}

}  // namespace kasten::store
