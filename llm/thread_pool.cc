#include "llm/thread_pool.h"

#include <immintrin.h>

#include <algorithm>

// Why no task is lost or run twice
// --------------------------------
// A job is published by one store, ticket_ = n_tasks << 32 | 0, and a task is claimed by one
// ticket_.fetch_add(1). The value a fetch_add returns is an atomic snapshot of the *current* job's size and its
// next index, never a view a thread loaded earlier, so a claim is checked against the size of the very job it
// claims from (the bug this replaces checked a claimed index against n_tasks_ that run() had already
// overwritten for the next job). Then:
//  - Each index of a job is returned by exactly one fetch_add (they are totally ordered on ticket_), and a claim
//    with index < n_tasks is always run, so no task is run twice and none is dropped once claimed.
//  - Every task is claimed: run() itself keeps claiming until a claim comes back with index >= n_tasks.
//  - While a job has a claimed task that has not finished, done_ < n_tasks, so run() cannot return and publish
//    another job: the job a claim came from stays current until that task is done. Hence the claimant reads
//    this job's fn_ (run() writes fn_ and resets done_ before the release store of the ticket, which the
//    claim's acquire fetch_add reads, directly or through the release sequence of fetch_adds that follows it)
//    and its done_ increment counts toward this job (the next reset comes after run() saw done_ == n_tasks,
//    which includes this increment). A thread that was descheduled with a stale idea of the current job gains
//    nothing from it: all it can do is fetch_add, and that answers for the job current at that moment.
//  - When run() stores the next ticket, every index of the previous job has been claimed (done_ == n_tasks),
//    so fetch_adds that reach the old ticket before the store find index >= n_tasks and claim nothing, and
//    the store discards only their increments.
//  - The index cannot overflow into the size: after a failed claim work() returns, and a thread enters work()
//    at most a few times per job (run() once; a worker once per generation it sees, plus one call that may
//    still be in flight from the previous job), so the index stays below n_tasks + 4 * size() < 2^32 (n_tasks < 2^31).
// No ABA is possible: nothing is ever compared against a remembered value; generation_ only tells waiting
// workers that there may be work, and a worker that misreads it merely joins a job late (or not at all).
//
// Why no wake-up is lost (workers sleep without any timeout)
// ----------------------------------------------------------
// A worker about to sleep, holding mu_, does sleepers_.fetch_add(1) and then (in wait()'s predicate, still
// holding mu_) loads generation_; run() stores generation_ and then loads sleepers_. All four are seq_cst, so
// in their single total order either run()'s load of sleepers_ comes after the worker's increment (then run()
// sees sleepers_ > 0, takes mu_, which it can only get once the worker is blocked in wait() or has left it, and
// notifies), or the generation_ store comes before the worker's predicate load (then the predicate sees the new
// generation and the worker does not block). The destructor sets stop_, bumps generation_ and notifies
// unconditionally under the same protocol. run() blocking for a job's last task is the mirror image, with
// caller_waiting_ and done_: the caller sets caller_waiting_ under mu_ and then checks done_ in the predicate;
// the thread that finishes the last task increments done_ and then loads caller_waiting_, and notifies under mu_
// if it is set.

namespace kasten::llm {
namespace {

// Spin iterations before a waiting worker blocks (~0.3-1 ms: a `pause` is ~15-50 ns): long enough to bridge
// the serial work between two parallel regions of a decode step, short enough to cost nothing noticeable once
// the pool goes idle.
constexpr int kSpinIterations = 20000;
// The caller waiting for tasks that other threads claimed spins this long, then blocks until the thread that
// finishes the job's last task wakes it.
constexpr int kWaitSpins = 8000;
// Every so often a spinning thread yields its core: a no-op syscall when the core is free, but on an
// oversubscribed machine it hands the core to whoever is runnable there (often the caller with the next job,
// or a worker holding a claimed task) instead of burning the rest of a time slice.
constexpr int kSpinsPerYield = 128;

inline void spin_pause(int spins) {
    if (spins % kSpinsPerYield == kSpinsPerYield - 1) {
        std::this_thread::yield();
    } else {
        _mm_pause();
    }
}

constexpr std::uint64_t kIndexMask = 0xffffffffu;

}  // namespace

ThreadPool::ThreadPool(int n_threads) {
    n_threads = std::max(1, n_threads);
    workers_.reserve(static_cast<std::size_t>(n_threads - 1));
    for (int t = 1; t < n_threads; ++t) workers_.emplace_back([this, t] { worker_loop(t); });
}

ThreadPool::~ThreadPool() {
    stop_.store(true);
    generation_.fetch_add(1);
    wake_sleepers();
    for (std::thread& w : workers_) w.join();
}

void ThreadPool::work(int thread) {
    for (;;) {
        // A plain look first, so threads arriving after the last claim do not take the line exclusively.
        const std::uint64_t peek = ticket_.load(std::memory_order_relaxed);
        if ((peek & kIndexMask) >= (peek >> 32)) return;
        const std::uint64_t v = ticket_.fetch_add(1, std::memory_order_acquire);
        const auto n_tasks = static_cast<std::uint32_t>(v >> 32);
        const auto index = static_cast<std::uint32_t>(v & kIndexMask);
        if (index >= n_tasks) return;
        (*fn_)(static_cast<int>(index), thread);
        // seq_cst: the increment and the load of caller_waiting_ pair with run()'s blocking wait.
        if (done_.fetch_add(1) + 1 == static_cast<int>(n_tasks) && caller_waiting_.load()) {
            { std::lock_guard<std::mutex> lock(mu_); }
            done_cv_.notify_one();
        }
    }
}

void ThreadPool::run(int n_tasks, const std::function<void(int, int)>& fn) {
    if (n_tasks <= 0) return;
    if (workers_.empty() || n_tasks == 1) {
        for (int t = 0; t < n_tasks; ++t) fn(t, 0);
        return;
    }
    // No task of the previous job is claimed or running here, so nobody reads fn_ or writes done_.
    fn_ = &fn;
    done_.store(0, std::memory_order_relaxed);
    ticket_.store(static_cast<std::uint64_t>(n_tasks) << 32, std::memory_order_release);  // publishes the job
    generation_.store(generation_.load(std::memory_order_relaxed) + 1);  // seq_cst: pairs with sleepers_
    if (sleepers_.load() > 0) wake_sleepers();
    work(0);
    // Every task is claimed now; wait for the ones other threads are still running.
    for (int spins = 0; done_.load(std::memory_order_acquire) != n_tasks; ++spins) {
        if (spins < kWaitSpins) {
            spin_pause(spins);
        } else {
            std::unique_lock<std::mutex> lock(mu_);
            caller_waiting_.store(true);
            done_cv_.wait(lock, [&] { return done_.load() == n_tasks; });
            caller_waiting_.store(false, std::memory_order_relaxed);
            break;
        }
    }
}

void ThreadPool::wake_sleepers() {
    // Taking the mutex orders this wake-up after any sleeper's predicate check, so none is missed.
    { std::lock_guard<std::mutex> lock(mu_); }
    wake_cv_.notify_all();
}

void ThreadPool::worker_loop(int thread) {
    std::uint64_t seen = 0;
    for (;;) {
        std::uint64_t g = generation_.load(std::memory_order_acquire);
        for (int spins = 0; g == seen; g = generation_.load(std::memory_order_acquire)) {
            if (++spins < kSpinIterations) {
                spin_pause(spins);
                continue;
            }
            std::unique_lock<std::mutex> lock(mu_);
            sleepers_.fetch_add(1);
            wake_cv_.wait(lock, [&] { return generation_.load() != seen; });
            sleepers_.fetch_sub(1);
            spins = 0;
        }
        if (stop_.load()) return;
        seen = g;
        work(thread);
    }
}

}  // namespace kasten::llm
