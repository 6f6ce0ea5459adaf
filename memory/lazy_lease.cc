#include "memory/lazy_lease.h"

namespace kasten::memory {

Result<Repositories*> LazyLease::get() {
    if (!lease_) {
        ReaderPool::Lease lease = pool_.lease();
        KASTEN_RETURN_IF_ERROR(lease.read_snapshot());
        lease_.emplace(std::move(lease));
    }
    return &**lease_;
}

}  // namespace kasten::memory
