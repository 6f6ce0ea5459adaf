#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"
#include "common/status.h"

struct sqlite3_stmt;  // opaque; the SQLite header is included only by store/*.cc

namespace kasten::store {

// RAII over one prepared SQLite statement (finalized on destruction). Parameter indexes are 1-based,
// column indexes 0-based, as in SQLite.
//
// Binding never fails loudly: a bind error (text containing NUL, index out of range, value too big) is remembered
// and returned by the next step()/run(), which then does not execute. reset() clears bindings and that error.
//
// Not thread-safe; belongs to the Database that prepared it and must not outlive it.
class Statement {
  public:
    // Takes ownership of `stmt` (non-null).
    explicit Statement(sqlite3_stmt* stmt) noexcept;
    Statement(Statement&& other) noexcept;
    Statement& operator=(Statement&& other) noexcept;
    Statement(const Statement&) = delete;
    Statement& operator=(const Statement&) = delete;
    ~Statement();

    void bind_int64(int index, std::int64_t value);
    void bind_double(int index, double value);  // NaN is stored by SQLite as NULL
    void bind_null(int index);
    // NULL when absent.
    void bind_optional_int64(int index, const std::optional<std::int64_t>& value);
    // Copies the text. Text must not contain NUL bytes (deferred kInvalidArgument).
    void bind_text(int index, std::string_view value);
    // Does not copy: `value` must stay alive and unchanged until the statement is stepped to completion or reset.
    void bind_text_ref(int index, const std::string& value);
    void bind_text_ref(int index, std::string&&) = delete;
    // Copies the bytes. size 0 binds an empty blob, not NULL.
    void bind_blob(int index, const void* data, std::size_t size);
    // Does not copy: the bytes must stay alive until the statement is stepped to completion or reset.
    void bind_blob_ref(int index, const void* data, std::size_t size);

    // Executes one step: true when a row is available, false when done. Errors map as in sqlite_status.h.
    Result<bool> step();
    // Steps until done, ignoring rows (INSERT/UPDATE/DELETE).
    Status run();
    // Rewinds the statement and clears bindings and any deferred bind error.
    void reset();

    int column_count() const;
    bool column_is_null(int col) const;
    std::int64_t column_int64(int col) const;
    int column_int(int col) const;
    double column_double(int col) const;
    // NULL when the column is NULL.
    std::optional<std::int64_t> column_optional_int64(int col) const;
    // The views are valid until the next step(), reset() or column access of another type on the same column.
    std::string_view column_text(int col) const;
    std::string_view column_blob(int col) const;
    std::string column_string(int col) const { return std::string(column_text(col)); }

    // The SQL text the statement was prepared from.
    std::string_view sql() const;

  private:
    friend class Database;
    friend class CachedStatement;

    void set_bind_error(int rc, int index);

    sqlite3_stmt* stmt_ = nullptr;
    Status bind_error_;
    bool in_use_ = false;  // leased out by Database's statement cache
};

}  // namespace kasten::store
