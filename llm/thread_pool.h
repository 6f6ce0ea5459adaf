#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace kasten::llm {

// A small persistent pool for the decoder's data-parallel regions (one per matmul group per layer, so a few
// hundred per token): workers spin briefly for the next region and then sleep on a futex, so dispatch costs
// about a microsecond while decoding and nothing while idle. The calling thread takes part as thread 0, and
// completion counts finished tasks, not threads: when a worker is descheduled (a shared, oversubscribed
// machine) the others take its tasks instead of waiting for it to wake.
//
// Thread safety: run() may be called by one thread at a time (it is not reentrant); the pool itself is used
// by a single decoding context at a time.
class ThreadPool {
  public:
    // n_threads total threads including the caller (clamped to >= 1).
    explicit ThreadPool(int n_threads);
    ThreadPool(const ThreadPool&) = delete;
    ThreadPool& operator=(const ThreadPool&) = delete;
    ~ThreadPool();

    int size() const { return static_cast<int>(workers_.size()) + 1; }

    // Calls fn(task, thread) for every task in [0, n_tasks), spread over all threads (tasks are taken
    // dynamically, so a slow core takes fewer); returns when every task has finished. thread is in [0, size()).
    void run(int n_tasks, const std::function<void(int task, int thread)>& fn);

  private:
    void worker_loop(int thread);
    // Claims and runs tasks of job `generation` until none are left or a newer job replaced it.
    void work(int thread, std::uint64_t generation);
    void wake_sleepers();

    std::vector<std::thread> workers_;
    // The current job: generation << 32 | index of the next unclaimed task. Claiming a task is a CAS on it, so
    // a worker that wakes late for an old job can never run a task of a newer one.
    std::atomic<std::uint64_t> ticket_{0};
    std::atomic<int> n_tasks_{0};
    std::atomic<const std::function<void(int, int)>*> fn_{nullptr};
    std::atomic<int> done_{0};  // tasks of the current job finished
    std::atomic<int> sleepers_{0};
    // Sleeping workers wait here (with a short timeout, so a missed wake-up costs at most a millisecond).
    std::mutex sleep_mu_;
    std::condition_variable sleep_cv_;
    std::atomic<bool> stop_{false};
};

}  // namespace kasten::llm
