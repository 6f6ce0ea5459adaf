#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/result.h"
#include "common/status.h"
#include "common/string_hash.h"
#include "store/statement.h"
#include "store/transaction.h"

struct sqlite3;  // opaque; the SQLite header is included only by store/*.cc

namespace kasten::store {

class Database;

// A statement leased from Database's cache: use it through -> or *, and on destruction it is reset (bindings cleared,
// read cursor closed) and handed back. Move-only; must not outlive its Database.
class CachedStatement {
  public:
    CachedStatement(CachedStatement&& other) noexcept;
    CachedStatement& operator=(CachedStatement&& other) noexcept;
    CachedStatement(const CachedStatement&) = delete;
    CachedStatement& operator=(const CachedStatement&) = delete;
    ~CachedStatement();

    Statement& operator*() { return *stmt_; }
    Statement* operator->() { return stmt_; }

  private:
    friend class Database;
    CachedStatement(Statement* cached, std::unique_ptr<Statement> owned) noexcept;
    void release() noexcept;

    Statement* stmt_ = nullptr;
    std::unique_ptr<Statement> owned_;  // set when the cached copy was already leased (re-entrant use)
};

// One SQLite connection (RAII over sqlite3*), with the kasten schema migrated to kSchemaVersion on open.
//
// Thread safety: none. A Database and everything built on it (statements, transactions, repositories) must be used
// by one thread at a time; callers serialize (e.g. MemoryManager's lock). Several Database objects may open the same
// file (also from several processes): WAL mode plus a 5 s busy timeout arbitrate, and writers start with
// BEGIN IMMEDIATE (see Transaction).
class Database {
  public:
    // Opens (creating if needed) the database at `path`; ":memory:" gives a private in-memory database.
    // Sets journal_mode=WAL (file databases), synchronous=NORMAL, foreign_keys=ON, busy_timeout=5000 ms, then runs
    // the schema migrations (schema.h). Errors: kIOError (cannot open), kCorruption (not a database),
    // kNotSupported (schema newer than this build), kBusy.
    static Result<std::unique_ptr<Database>> open(const std::string& path);
    // A read-only connection to a database file that a writer connection (open()) has already created and migrated:
    // in WAL mode it reads the last committed state and never waits for the writer. No migrations; kNotSupported for
    // a newer schema, kFailedPrecondition for an older one (open the writer first), kIOError when it cannot open.
    static Result<std::unique_ptr<Database>> open_reader(const std::string& path);

    Database(const Database&) = delete;
    Database& operator=(const Database&) = delete;
    ~Database();

    // How long a statement waits for another connection's lock before failing with kBusy (default 5000 ms).
    Status set_busy_timeout(int milliseconds);

    // Executes one or more ';'-separated statements without results (DDL, PRAGMA, BEGIN…). Not cached.
    Status exec(std::string_view sql);

    // Returns the cached prepared statement for `sql` (preparing it on first use), reset and with no bindings.
    // If that statement is currently leased (re-entrant use of the same SQL, e.g. a callback inside for_each), a
    // fresh uncached statement is returned instead. `sql` must hold exactly one statement. The cache is unbounded:
    // use fixed SQL texts with parameters, never SQL with values spliced in.
    Result<CachedStatement> prepare(std::string_view sql);

    // Rows changed by the most recent INSERT/UPDATE/DELETE on this connection.
    std::int64_t changes() const;
    std::int64_t last_insert_rowid() const;
    // True while a transaction is open on this connection (SQLite is not in autocommit mode).
    bool in_transaction() const;
    // Depth of Transaction objects currently open (0 = none, 1 = BEGIN, >1 = savepoints).
    int transaction_depth() const { return transaction_depth_; }
    // Path given to open().
    const std::string& path() const { return path_; }
    bool is_memory() const { return is_memory_; }
    std::size_t cached_statement_count() const { return cache_.size(); }

  private:
    friend class Transaction;

    Database(sqlite3* db, std::string path);
    // open() without the in-memory image: configures, then runs every migration.
    static Result<std::unique_ptr<Database>> open_migrated(const std::string& path);
    // The image (sqlite3_serialize) of a fresh in-memory database at the current schema, built once per process: a
    // new in-memory database starts as a copy of it instead of running every migration. Empty when it could not be
    // built (each in-memory database then migrates itself).
    static const std::vector<unsigned char>& fresh_memory_image();
    // Opens the connection (flags: SQLITE_OPEN_* access flags) without configuring it; `purpose` completes errors.
    static Result<std::unique_ptr<Database>> connect(const std::string& path, int flags, const char* purpose);
    Result<std::unique_ptr<Statement>> prepare_new(std::string_view sql);
    Status configure();

    sqlite3* db_ = nullptr;
    std::string path_;
    bool is_memory_ = false;
    int transaction_depth_ = 0;
    std::unordered_map<std::string, std::unique_ptr<Statement>, StringHash, std::equal_to<>> cache_;
};

}  // namespace kasten::store
