#include "memory/index_write_faults.h"

#include <string>

namespace kasten::memory {

Status IndexWriteFaults::check(std::string_view what) {
    bool fail = always_.load();
    if (!fail) {
        int n = next_.load();
        while (n > 0 && !next_.compare_exchange_weak(n, n - 1)) {
        }
        fail = n > 0;
    }
    if (!fail) return Status::ok();
    injected_.fetch_add(1);
    return Status::insufficient_storage(std::string(what) + ": No space left on device (injected)");
}

}  // namespace kasten::memory
