#include "memory/store_writer.h"

#include "common/log.h"
#include "store/transaction.h"

namespace kasten::memory {

StoreWriter::StoreWriter(std::unique_ptr<store::Database> db, const Clock& clock, RecallQueue& recalls,
                         std::string path)
    : db_(std::move(db)),
      repos_(std::make_unique<Repositories>(*db_)),
      clock_(clock),
      recalls_(recalls),
      path_(std::move(path)),
      in_memory_(path_ == ":memory:") {}

Result<std::unique_ptr<StoreWriter>> StoreWriter::open(const std::string& path, const Clock& clock,
                                                       RecallQueue& recalls) {
    KASTEN_ASSIGN_OR_RETURN(auto db, store::Database::open(path));
    return std::unique_ptr<StoreWriter>(new StoreWriter(std::move(db), clock, recalls, path));
}

Result<std::int64_t> StoreWriter::commit(store::EventRecord event, const WriteFn& write, const AfterFn& after) {
    MutexLock lock(mu_);
    store::Transaction tx(*db_);
    KASTEN_RETURN_IF_ERROR(tx.begin());
    if (recalls_.size() > 0) {
        // Recalls ride along in a savepoint: a recall that cannot be written never fails the caller's change.
        store::Transaction recall_tx(*db_);
        Status st = recall_tx.begin();
        if (st.is_ok()) st = recalls_.apply(*repos_);
        if (st.is_ok()) st = recall_tx.commit();
        if (!st.is_ok()) log::warn("applying queued note recalls: {}", st.to_string());
    }
    KASTEN_RETURN_IF_ERROR(write(*repos_, event));
    event.at = clock_.now_ms();
    KASTEN_ASSIGN_OR_RETURN(std::int64_t seq, repos_->events.append(event));
    KASTEN_RETURN_IF_ERROR(tx.commit());
    last_seq_.store(seq);
    if (after) after(seq);
    return seq;
}

Status StoreWriter::flush_recalls() {
    MutexLock lock(mu_);
    store::Transaction tx(*db_);
    KASTEN_RETURN_IF_ERROR(tx.begin());
    KASTEN_RETURN_IF_ERROR(recalls_.apply(*repos_));
    return tx.commit();
}

}  // namespace kasten::memory
