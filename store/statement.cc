#include "store/statement.h"

#include <fmt/format.h>
#include <sqlite3.h>

#include <cstring>
#include <utility>

#include "store/sqlite_status.h"

namespace kasten::store {

Statement::Statement(sqlite3_stmt* stmt) noexcept : stmt_(stmt) {}

Statement::Statement(Statement&& other) noexcept
    : stmt_(std::exchange(other.stmt_, nullptr)),
      bind_error_(std::move(other.bind_error_)),
      in_use_(std::exchange(other.in_use_, false)) {}

Statement& Statement::operator=(Statement&& other) noexcept {
    if (this != &other) {
        sqlite3_finalize(stmt_);
        stmt_ = std::exchange(other.stmt_, nullptr);
        bind_error_ = std::move(other.bind_error_);
        in_use_ = std::exchange(other.in_use_, false);
    }
    return *this;
}

Statement::~Statement() {
    sqlite3_finalize(stmt_);
}

void Statement::set_bind_error(int rc, int index) {
    if (rc == SQLITE_OK || !bind_error_.is_ok()) return;
    bind_error_ = status_from_sqlite(rc, fmt::format("binding parameter {} of '{}'", index, sql()),
                                     sqlite3_errmsg(sqlite3_db_handle(stmt_)));
}

void Statement::bind_int64(int index, std::int64_t value) {
    set_bind_error(sqlite3_bind_int64(stmt_, index, value), index);
}

void Statement::bind_double(int index, double value) {
    set_bind_error(sqlite3_bind_double(stmt_, index, value), index);
}

void Statement::bind_null(int index) {
    set_bind_error(sqlite3_bind_null(stmt_, index), index);
}

void Statement::bind_optional_int64(int index, const std::optional<std::int64_t>& value) {
    if (value) {
        bind_int64(index, *value);
    } else {
        bind_null(index);
    }
}

namespace {

bool has_nul(std::string_view text) {
    return !text.empty() && std::memchr(text.data(), '\0', text.size());
}

}  // namespace

void Statement::bind_text(int index, std::string_view value) {
    if (has_nul(value)) {
        if (bind_error_.is_ok()) {
            bind_error_ = Status::invalid_argument(fmt::format("text for parameter {} contains a NUL byte", index));
        }
        return;
    }
    // A null data pointer would bind SQL NULL; an empty view must bind ''.
    const char* data = value.data() != nullptr ? value.data() : "";
    set_bind_error(sqlite3_bind_text64(stmt_, index, data, value.size(), SQLITE_TRANSIENT, SQLITE_UTF8), index);
}

void Statement::bind_text_ref(int index, const std::string& value) {
    if (has_nul(value)) {
        if (bind_error_.is_ok()) {
            bind_error_ = Status::invalid_argument(fmt::format("text for parameter {} contains a NUL byte", index));
        }
        return;
    }
    set_bind_error(sqlite3_bind_text64(stmt_, index, value.data(), value.size(), SQLITE_STATIC, SQLITE_UTF8), index);
}

void Statement::bind_blob(int index, const void* data, std::size_t size) {
    if (size == 0) {
        set_bind_error(sqlite3_bind_zeroblob(stmt_, index, 0), index);
        return;
    }
    set_bind_error(sqlite3_bind_blob64(stmt_, index, data, size, SQLITE_TRANSIENT), index);
}

void Statement::bind_blob_ref(int index, const void* data, std::size_t size) {
    if (size == 0) {
        set_bind_error(sqlite3_bind_zeroblob(stmt_, index, 0), index);
        return;
    }
    set_bind_error(sqlite3_bind_blob64(stmt_, index, data, size, SQLITE_STATIC), index);
}

Result<bool> Statement::step() {
    if (!bind_error_.is_ok()) return bind_error_;
    int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    return status_from_sqlite(rc, fmt::format("executing '{}'", sql()), sqlite3_errmsg(sqlite3_db_handle(stmt_)));
}

Status Statement::run() {
    for (;;) {
        Result<bool> r = step();
        if (!r.is_ok()) return r.status();
        if (!*r) return Status::ok();
    }
}

void Statement::reset() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
    bind_error_ = Status::ok();
}

int Statement::column_count() const {
    return sqlite3_column_count(stmt_);
}

bool Statement::column_is_null(int col) const {
    return sqlite3_column_type(stmt_, col) == SQLITE_NULL;
}

std::int64_t Statement::column_int64(int col) const {
    return sqlite3_column_int64(stmt_, col);
}

int Statement::column_int(int col) const {
    return sqlite3_column_int(stmt_, col);
}

double Statement::column_double(int col) const {
    return sqlite3_column_double(stmt_, col);
}

std::optional<std::int64_t> Statement::column_optional_int64(int col) const {
    if (column_is_null(col)) return std::nullopt;
    return sqlite3_column_int64(stmt_, col);
}

std::string_view Statement::column_text(int col) const {
    const unsigned char* text = sqlite3_column_text(stmt_, col);  // must precede column_bytes
    int size = sqlite3_column_bytes(stmt_, col);
    if (text == nullptr) return {};
    return {reinterpret_cast<const char*>(text), static_cast<std::size_t>(size)};
}

std::string_view Statement::column_blob(int col) const {
    const void* data = sqlite3_column_blob(stmt_, col);  // must precede column_bytes
    int size = sqlite3_column_bytes(stmt_, col);
    if (data == nullptr) return {};
    return {static_cast<const char*>(data), static_cast<std::size_t>(size)};
}

std::string_view Statement::sql() const {
    const char* text = stmt_ != nullptr ? sqlite3_sql(stmt_) : nullptr;
    return text != nullptr ? std::string_view(text) : std::string_view();
}

}  // namespace kasten::store
