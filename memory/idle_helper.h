#pragma once

#include <atomic>
#include <condition_variable>
#include <exception>
#include <functional>
#include <thread>

#include "common/mutex.h"
#include "common/thread_annotations.h"

namespace kasten::memory {

// One background thread that takes the side half of a request's work while it is idle, so that a lone search uses
// two cores; when another request holds it, the caller does both halves itself (no queueing, no waiting for it).
// Under load every core is busy with requests anyway, so the helper then adds nothing and costs one atomic check.
// The caller waits for the side half only once the helper has started it: if the helper has not been scheduled by
// the time the caller's own half is done (the other core is busy), the caller takes the side half back and runs it
// itself, so a busy machine's wake-up latency never adds to a search.
//
// Thread-safe. Idle means blocked on a condition variable (no polling).
class IdleHelper {
  public:
    IdleHelper();
    // Waits for a task in progress, then stops the thread.
    ~IdleHelper();
    IdleHelper(const IdleHelper&) = delete;
    IdleHelper& operator=(const IdleHelper&) = delete;

    // Runs `here` on the calling thread and `there` on the helper if it is free and starts it before `here` ends
    // (else on the calling thread, after `here`); returns when both have finished, each having run exactly once. An
    // exception from either is rethrown here (`here`'s first).
    void run_both(const std::function<void()>& here, const std::function<void()>& there);

    // How many run_both calls had `there` run by the helper (tests, metrics).
    std::uint64_t handed_off() const { return handed_off_.load(std::memory_order_relaxed); }
    // How many offered `there` to the helper and took it back, not yet started, when `here` was done.
    std::uint64_t taken_back() const { return taken_back_.load(std::memory_order_relaxed); }

  private:
    void loop();

    std::atomic<bool> claimed_{false};  // a caller owns the helper for one run_both
    std::atomic<std::uint64_t> handed_off_{0};
    std::atomic<std::uint64_t> taken_back_{0};
    Mutex mu_;
    std::condition_variable task_cv_;
    std::condition_variable done_cv_;
    const std::function<void()>* task_ GUARDED_BY(mu_) = nullptr;  // offered, not yet started
    bool done_ GUARDED_BY(mu_) = false;
    bool stop_ GUARDED_BY(mu_) = false;
    std::exception_ptr error_ GUARDED_BY(mu_);
    std::thread thread_;
};

}  // namespace kasten::memory
