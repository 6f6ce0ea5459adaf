#include "store/transaction.h"

#include <fmt/format.h>

#include "common/log.h"
#include "store/database.h"

namespace kasten::store {

namespace {

std::string savepoint_name(int level) {
    return fmt::format("kasten_sp_{}", level);
}

// Transaction control statements go through the statement cache: they run once or twice per write batch.
Status run(Database& db, std::string_view sql) {
    KASTEN_ASSIGN_OR_RETURN(CachedStatement s, db.prepare(sql));
    return s->run();
}

}  // namespace

Transaction::~Transaction() {
    if (!active()) return;
    Status s = rollback();
    if (!s.is_ok()) log::warn("transaction rollback on destruction failed: {}", s.to_string());
}

Status Transaction::begin() {
    if (active()) return Status::failed_precondition("transaction already begun");
    const int depth = db_.transaction_depth_;
    if (depth == 0) {
        if (db_.in_transaction()) {
            return Status::failed_precondition("a transaction not started by a Transaction is open on this database");
        }
        KASTEN_RETURN_IF_ERROR(run(db_, "BEGIN IMMEDIATE"));
    } else {
        KASTEN_RETURN_IF_ERROR(run(db_, "SAVEPOINT " + savepoint_name(depth + 1)));
    }
    level_ = depth + 1;
    db_.transaction_depth_ = level_;
    return Status::ok();
}

Status Transaction::commit() {
    if (!active()) return Status::failed_precondition("commit of a transaction that is not active");
    if (db_.transaction_depth_ != level_) {
        return Status::failed_precondition("commit of a transaction while a nested transaction is still open");
    }
    if (!db_.in_transaction()) {
        // SQLite rolled the whole transaction back by itself after an earlier error (e.g. disk full).
        level_ = 0;
        db_.transaction_depth_ = 0;
        return Status::internal("transaction was rolled back by SQLite after an earlier error; nothing committed");
    }
    if (level_ == 1) {
        KASTEN_RETURN_IF_ERROR(run(db_, "COMMIT"));
    } else {
        KASTEN_RETURN_IF_ERROR(run(db_, "RELEASE " + savepoint_name(level_)));
    }
    db_.transaction_depth_ = level_ - 1;
    level_ = 0;
    return Status::ok();
}

Status Transaction::rollback() {
    if (!active()) return Status::failed_precondition("rollback of a transaction that is not active");
    const int level = level_;
    level_ = 0;
    if (db_.transaction_depth_ < level) return Status::ok();  // an enclosing transaction already rolled back
    // Whatever happens below, this transaction and any still-open inner ones are over.
    db_.transaction_depth_ = level - 1;
    if (!db_.in_transaction()) {
        db_.transaction_depth_ = 0;  // SQLite already rolled everything back
        return Status::ok();
    }
    if (level == 1) return run(db_, "ROLLBACK");
    const std::string name = savepoint_name(level);
    KASTEN_RETURN_IF_ERROR(run(db_, "ROLLBACK TO " + name));
    return run(db_, "RELEASE " + name);
}

}  // namespace kasten::store
