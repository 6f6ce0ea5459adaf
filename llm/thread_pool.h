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
// hundred per token): workers spin briefly for the next region and then block on a condition variable (no
// timed polling), so dispatch costs about a microsecond while decoding and no CPU while idle. The calling
// thread takes part as thread 0, and completion counts finished tasks, not threads: when a worker is
// descheduled (a shared, oversubscribed machine) the others take its tasks instead of waiting for it to wake.
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
    // Claims and runs tasks of the current job until a claim finds none left (see thread_pool.cc).
    void work(int thread);
    void wake_sleepers();

    std::vector<std::thread> workers_;

    // The job, on one cache line: written by run() once per job, read by every thread.
    // ticket_ = n_tasks << 32 | index of the next unclaimed task. A claim is one fetch_add on it, so the size
    // a claim is checked against is read in the same atomic step as the index it claims.
    alignas(64) std::atomic<std::uint64_t> ticket_{0};
    // Bumped by run() after each new ticket (and by the destructor): tells waiting workers a job is there.
    std::atomic<std::uint64_t> generation_{0};
    // The job's function. Plain: written by run() only while no task is claimed or running, and published to
    // the workers by the ticket store (see thread_pool.cc).
    const std::function<void(int, int)>* fn_ = nullptr;

    // Tasks of the current job finished; written at the end of every task, so on its own line.
    alignas(64) std::atomic<int> done_{0};

    // Blocking, on its own line (read once per job, written only when a thread blocks or wakes up).
    alignas(64) std::atomic<int> sleepers_{0};  // workers registered to wait on wake_cv_
    std::atomic<bool> caller_waiting_{false};   // run() blocks on done_cv_ for the job's last task
    std::atomic<bool> stop_{false};
    std::mutex mu_;
    std::condition_variable wake_cv_;  // workers wait for generation_ to change
    std::condition_variable done_cv_;  // run() waits for done_ == n_tasks
};

}  // namespace kasten::llm
