#include "store/database.h"

#include <fmt/format.h>
#include <sqlite3.h>

#include <cstring>
#include <utility>
#include <vector>

#include "common/log.h"
#include "store/schema.h"
#include "store/sqlite_status.h"

namespace kasten::store {

namespace {
// Up to 1 GiB of the database file is memory-mapped (address space only; the OS pages it in as read).
constexpr char kMmapPragma[] = "PRAGMA mmap_size=1073741824";
}  // namespace

CachedStatement::CachedStatement(Statement* cached, std::unique_ptr<Statement> owned) noexcept
    : stmt_(cached != nullptr ? cached : owned.get()), owned_(std::move(owned)) {
    stmt_->in_use_ = true;
}

CachedStatement::CachedStatement(CachedStatement&& other) noexcept
    : stmt_(std::exchange(other.stmt_, nullptr)), owned_(std::move(other.owned_)) {}

CachedStatement& CachedStatement::operator=(CachedStatement&& other) noexcept {
    if (this != &other) {
        release();
        stmt_ = std::exchange(other.stmt_, nullptr);
        owned_ = std::move(other.owned_);
    }
    return *this;
}

CachedStatement::~CachedStatement() {
    release();
}

void CachedStatement::release() noexcept {
    if (stmt_ == nullptr) return;
    stmt_->reset();
    stmt_->in_use_ = false;
    stmt_ = nullptr;
    owned_.reset();
}

Database::Database(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}

Database::~Database() {
    if (transaction_depth_ > 0 || (db_ != nullptr && sqlite3_get_autocommit(db_) == 0)) {
        log::warn("closing database '{}' with an open transaction; it is rolled back", path_);
    }
    cache_.clear();  // finalize every statement before closing
    // close_v2 defers the close until any still-live (leaked) statement is finalized instead of failing.
    sqlite3_close_v2(db_);
}

Result<std::unique_ptr<Database>> Database::connect(const std::string& path, int flags, const char* purpose) {
    if (path.empty()) return Status::invalid_argument("database path is empty");
    if (std::memchr(path.data(), '\0', path.size()) != nullptr) {
        return Status::invalid_argument("database path contains a NUL byte");
    }
    sqlite3* raw = nullptr;
    int rc = sqlite3_open_v2(path.c_str(), &raw, flags | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE, nullptr);
    // The handle exists (and must be closed) even when opening failed.
    std::unique_ptr<Database> db(new Database(raw, path));
    if (rc != SQLITE_OK) {
        return status_from_sqlite(rc, fmt::format("opening database '{}'{}", path, purpose),
                                  raw != nullptr ? sqlite3_errmsg(raw) : "out of memory");
    }
    return db;
}

const std::vector<unsigned char>& Database::fresh_memory_image() {
    static const std::vector<unsigned char> image = [] {
        std::vector<unsigned char> out;
        auto db = open_migrated(":memory:");
        if (!db.is_ok()) return out;
        sqlite3_int64 size = 0;
        unsigned char* bytes = sqlite3_serialize((*db)->db_, "main", &size, 0);
        if (bytes == nullptr) return out;
        out.assign(bytes, bytes + size);
        sqlite3_free(bytes);
        return out;
    }();
    return image;
}

Result<std::unique_ptr<Database>> Database::open_migrated(const std::string& path) {
    KASTEN_ASSIGN_OR_RETURN(auto db, connect(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, ""));
    KASTEN_RETURN_IF_ERROR(db->configure());
    KASTEN_RETURN_IF_ERROR(migrate(*db));
    return db;
}

Result<std::unique_ptr<Database>> Database::open(const std::string& path) {
    if (path != ":memory:") return open_migrated(path);
    const std::vector<unsigned char>& image = fresh_memory_image();
    if (image.empty()) return open_migrated(path);
    KASTEN_ASSIGN_OR_RETURN(auto db, connect(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, ""));
    auto* copy = static_cast<unsigned char*>(sqlite3_malloc64(image.size()));
    if (copy == nullptr) return Status::resource_exhausted("opening an in-memory database: out of memory");
    std::memcpy(copy, image.data(), image.size());
    // SQLite owns (and frees) the copy from here, also when this fails.
    const int rc = sqlite3_deserialize(db->db_, "main", copy, static_cast<sqlite3_int64>(image.size()),
                                       static_cast<sqlite3_int64>(image.size()),
                                       SQLITE_DESERIALIZE_FREEONCLOSE | SQLITE_DESERIALIZE_RESIZEABLE);
    if (rc != SQLITE_OK) {
        return status_from_sqlite(rc, "opening an in-memory database", sqlite3_errmsg(db->db_));
    }
    KASTEN_RETURN_IF_ERROR(db->configure());
    KASTEN_RETURN_IF_ERROR(migrate(*db));  // a no-op at the image's version; checks it
    return db;
}

Result<std::unique_ptr<Database>> Database::open_reader(const std::string& path) {
    if (path == ":memory:") return Status::invalid_argument("a reader needs a database file");
    KASTEN_ASSIGN_OR_RETURN(auto db, connect(path, SQLITE_OPEN_READONLY, " for reading"));
    sqlite3* raw = db->db_;
    sqlite3_extended_result_codes(raw, 1);
    KASTEN_RETURN_IF_ERROR(db->set_busy_timeout(5000));
    KASTEN_RETURN_IF_ERROR(check_schema_supported(*db));
    KASTEN_RETURN_IF_ERROR(db->exec(kMmapPragma));
    KASTEN_ASSIGN_OR_RETURN(int version, schema_version(*db));
    if (version != kSchemaVersion) {
        return Status::failed_precondition(fmt::format(
            "database '{}' has schema version {}, not {}: open it for writing first", path, version, kSchemaVersion));
    }
    return db;
}

Status Database::configure() {
    sqlite3_extended_result_codes(db_, 1);
    KASTEN_RETURN_IF_ERROR(set_busy_timeout(5000));
    // Refuse a database from a newer build before changing anything in it (journal mode included).
    KASTEN_RETURN_IF_ERROR(check_schema_supported(*this));

    const char* filename = sqlite3_db_filename(db_, "main");
    // (A database deserialized from an image reports the in-memory VFS's name.)
    is_memory_ = path_ == ":memory:" || filename == nullptr || filename[0] == '\0';
    if (!is_memory_) {
        KASTEN_ASSIGN_OR_RETURN(CachedStatement wal, prepare("PRAGMA journal_mode=WAL"));
        KASTEN_ASSIGN_OR_RETURN(bool row, wal->step());
        std::string mode = row ? wal->column_string(0) : std::string();
        if (mode != "wal") {
            log::warn("database '{}': journal_mode is '{}', not 'wal' (filesystem without shared memory?)", path_,
                      mode);
        }
    }
    KASTEN_RETURN_IF_ERROR(exec("PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"));
    // Pages are read through a shared memory map instead of a read() and a copy per page per connection.
    if (!is_memory_) KASTEN_RETURN_IF_ERROR(exec(kMmapPragma));
    KASTEN_ASSIGN_OR_RETURN(CachedStatement fk, prepare("PRAGMA foreign_keys"));
    KASTEN_ASSIGN_OR_RETURN(bool fk_row, fk->step());
    if (!fk_row || fk->column_int(0) != 1) {
        return Status::not_supported("this SQLite build does not enforce foreign keys");
    }
    return Status::ok();
}

Status Database::set_busy_timeout(int milliseconds) {
    int rc = sqlite3_busy_timeout(db_, milliseconds);
    if (rc != SQLITE_OK) return status_from_sqlite(rc, "setting busy timeout", sqlite3_errmsg(db_));
    return Status::ok();
}

Status Database::exec(std::string_view sql) {
    std::string text(sql);  // sqlite3_exec needs a NUL-terminated string
    char* err = nullptr;
    int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &err);
    if (rc == SQLITE_OK) return Status::ok();
    std::string detail = err != nullptr ? err : sqlite3_errmsg(db_);
    sqlite3_free(err);
    return status_from_sqlite(rc, fmt::format("executing '{}'", sql), detail);
}

Result<std::unique_ptr<Statement>> Database::prepare_new(std::string_view sql) {
    sqlite3_stmt* raw = nullptr;
    const char* tail = nullptr;
    int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT, &raw, &tail);
    if (rc != SQLITE_OK) return status_from_sqlite(rc, fmt::format("preparing '{}'", sql), sqlite3_errmsg(db_));
    auto stmt = std::make_unique<Statement>(raw);
    if (raw == nullptr) return Status::invalid_argument(fmt::format("no SQL statement in '{}'", sql));
    for (const char* p = tail; p != nullptr && p < sql.data() + sql.size(); ++p) {
        if (*p != ' ' && *p != '\n' && *p != '\t' && *p != '\r' && *p != ';') {
            return Status::invalid_argument(fmt::format("more than one SQL statement in '{}'", sql));
        }
    }
    return stmt;
}

Result<CachedStatement> Database::prepare(std::string_view sql) {
    auto it = cache_.find(sql);
    if (it == cache_.end()) {
        KASTEN_ASSIGN_OR_RETURN(std::unique_ptr<Statement> stmt, prepare_new(sql));
        it = cache_.emplace(std::string(sql), std::move(stmt)).first;
    }
    Statement* cached = it->second.get();
    if (!cached->in_use_) return CachedStatement(cached, nullptr);
    KASTEN_ASSIGN_OR_RETURN(std::unique_ptr<Statement> fresh, prepare_new(sql));
    return CachedStatement(nullptr, std::move(fresh));
}

std::int64_t Database::changes() const {
    return sqlite3_changes64(db_);
}

std::int64_t Database::last_insert_rowid() const {
    return sqlite3_last_insert_rowid(db_);
}

bool Database::in_transaction() const {
    return sqlite3_get_autocommit(db_) == 0;
}

}  // namespace kasten::store
