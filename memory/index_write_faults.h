#pragma once

#include <atomic>
#include <cstdint>
#include <string_view>

#include "common/status.h"

namespace kasten::memory {

// Injected failures of index writes, as a full disk produces them (tests and fault drills; MemoryOptions::
// index_write_faults). The lexical writer, the index commit and the index repair ask check() before each write:
// while armed it answers kInsufficientStorage and the write is not made.
//
// Thread-safe.
class IndexWriteFaults {
  public:
    // The next `n` writes fail (added to any count still pending).
    void fail_next(int n) { next_.fetch_add(n); }
    // Every write fails until set_failing(false).
    void set_failing(bool on) { always_.store(on); }
    // No more failures.
    void clear() {
        always_.store(false);
        next_.store(0);
    }
    // kInsufficientStorage naming `what` when a failure is due (and counts it), ok otherwise.
    Status check(std::string_view what);
    // Failures injected so far.
    std::int64_t injected() const { return injected_.load(); }

  private:
    std::atomic<int> next_{0};
    std::atomic<bool> always_{false};
    std::atomic<std::int64_t> injected_{0};
};

}  // namespace kasten::memory
