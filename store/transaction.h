#pragma once

#include "common/status.h"

namespace kasten::store {

class Database;

// Scoped write transaction.
//
//   Transaction tx(db);
//   KASTEN_RETURN_IF_ERROR(tx.begin());
//   ... writes ...
//   return tx.commit();   // any early return rolls back
//
// The outermost Transaction on a Database issues BEGIN IMMEDIATE (the write lock is taken up front, so a busy
// database fails at begin(), with kBusy after the 5 s busy timeout, not halfway through). A Transaction begun while
// another is open on the same Database nests as a SAVEPOINT: its commit() releases the savepoint (the work becomes
// part of the enclosing transaction), its rollback rolls back only its own work. Nested transactions must end in
// LIFO order (scoped objects do this); committing an outer one while an inner one is open is kFailedPrecondition.
//
// Not thread-safe (see Database).
class Transaction {
  public:
    // Does not begin; call begin().
    explicit Transaction(Database& db) noexcept : db_(db) {}
    Transaction(const Transaction&) = delete;
    Transaction& operator=(const Transaction&) = delete;
    // Rolls back unless committed (errors during that rollback are logged, not raised).
    ~Transaction();

    // kFailedPrecondition if already begun, or if SQLite is inside a transaction not started by a Transaction.
    Status begin();
    // Ends the transaction keeping its work. On error (e.g. kBusy at COMMIT) the transaction stays open and may be
    // committed again or rolled back (the destructor does). kFailedPrecondition if not active or an inner one is open.
    Status commit();
    // Ends the transaction discarding its work.
    Status rollback();

    bool active() const { return level_ > 0; }
    // True when this transaction is a savepoint inside an enclosing one.
    bool nested() const { return level_ > 1; }

  private:
    Database& db_;
    int level_ = 0;  // depth this transaction occupies; 0 when not active
};

}  // namespace kasten::store
