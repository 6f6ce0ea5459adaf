#pragma once

#include <cstdint>
#include <functional>

#include "common/status.h"

namespace kasten::eval {

// Calls fn(i) for every i in [0, n) on up to `threads` threads (at least one), handing indices out in increasing
// order. After the first error no new index is handed out; that error is returned once the running calls finish.
// fn must be safe to call concurrently for different indices.
[[nodiscard]] Status parallel_for(std::int64_t n, int threads, const std::function<Status(std::int64_t)>& fn);

}  // namespace kasten::eval
