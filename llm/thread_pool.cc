#include "llm/thread_pool.h"

#include <immintrin.h>

#include <algorithm>
#include <chrono>

namespace kasten::llm {
namespace {

// Spin iterations (each a `pause`, ~20-50 ns) before a waiting worker sleeps: long enough to bridge the serial
// work between two parallel regions of a decode step, short enough not to burn a shared core when idle.
constexpr int kSpinIterations = 20000;
// Spins of the caller waiting for a claimed task before it starts yielding its core.
constexpr int kWaitSpinsBeforeYield = 2000;

inline void cpu_relax() {
    _mm_pause();
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
    ticket_.store(((ticket_.load() >> 32) + 1) << 32);
    wake_sleepers();
    for (std::thread& w : workers_) w.join();
}

void ThreadPool::work(int thread, std::uint64_t generation) {
    std::uint64_t v = ticket_.load(std::memory_order_acquire);
    for (;;) {
        if ((v >> 32) != generation) return;
        const auto index = static_cast<int>(v & kIndexMask);
        if (index >= n_tasks_.load(std::memory_order_relaxed)) return;
        if (ticket_.compare_exchange_weak(v, v + 1, std::memory_order_acq_rel, std::memory_order_acquire)) {
            // The job cannot change while one of its tasks is unfinished, so fn_ is this generation's.
            (*fn_.load(std::memory_order_relaxed))(index, thread);
            done_.fetch_add(1, std::memory_order_release);
            v = ticket_.load(std::memory_order_acquire);
        }
    }
}

void ThreadPool::run(int n_tasks, const std::function<void(int, int)>& fn) {
    if (n_tasks <= 0) return;
    if (workers_.empty() || n_tasks == 1) {
        for (int t = 0; t < n_tasks; ++t) fn(t, 0);
        return;
    }
    fn_.store(&fn, std::memory_order_relaxed);
    n_tasks_.store(n_tasks, std::memory_order_relaxed);
    done_.store(0, std::memory_order_relaxed);
    const std::uint64_t generation = (ticket_.load(std::memory_order_relaxed) >> 32) + 1;
    ticket_.store(generation << 32);  // seq_cst: publishes the job, pairs with the sleepers_ check below
    if (sleepers_.load() > 0) wake_sleepers();
    work(0, generation);
    for (int spins = 0; done_.load(std::memory_order_acquire) != n_tasks; ++spins) {
        if (spins < kWaitSpinsBeforeYield) {
            cpu_relax();
        } else {
            std::this_thread::yield();
        }
    }
}

void ThreadPool::wake_sleepers() {
    // Taking the mutex orders this wake-up after any sleeper's predicate check, so none is missed.
    { std::lock_guard<std::mutex> lock(sleep_mu_); }
    sleep_cv_.notify_all();
}

void ThreadPool::worker_loop(int thread) {
    std::uint64_t seen = 0;
    for (;;) {
        int spins = 0;
        std::uint64_t v = ticket_.load(std::memory_order_acquire);
        while ((v >> 32) == seen) {
            if (++spins < kSpinIterations) {
                cpu_relax();
            } else {
                std::unique_lock<std::mutex> lock(sleep_mu_);
                sleepers_.fetch_add(1);
                sleep_cv_.wait_for(lock, std::chrono::milliseconds(1),
                                   [&] { return (ticket_.load(std::memory_order_acquire) >> 32) != seen; });
                sleepers_.fetch_sub(1);
                spins = 0;
            }
            v = ticket_.load(std::memory_order_acquire);
        }
        if (stop_.load()) return;
        seen = v >> 32;
        work(thread, seen);
    }
}

}  // namespace kasten::llm
