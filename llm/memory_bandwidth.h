#pragma once

#include <cstddef>

#include "llm/thread_pool.h"

namespace kasten::llm {

// A STREAM-style triad, a[i] = b[i] + s·c[i] over three double arrays much larger than the caches, split over
// every thread of `pool`. Returns the best of `repeats` runs in bytes per second, counted as STREAM does
// (3 arrays × 8 bytes per element; write-allocate traffic not counted). Takes about repeats × 3 ×
// array_bytes / bandwidth seconds plus the page faults of allocating the arrays.
double measure_triad_bandwidth(ThreadPool& pool, std::size_t array_bytes = std::size_t{128} << 20, int repeats = 8);

}  // namespace kasten::llm
