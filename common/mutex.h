#pragma once

#include <condition_variable>
#include <mutex>

#include "common/thread_annotations.h"

namespace kasten {

// std::mutex with clang thread-safety annotations (libstdc++'s own mutex carries none), so GUARDED_BY(mu_) and
// REQUIRES(mu_) are checked at compile time under clang -Wthread-safety.
class CAPABILITY("mutex") Mutex {
  public:
    void lock() ACQUIRE() { mu_.lock(); }
    void unlock() RELEASE() { mu_.unlock(); }
    bool try_lock() TRY_ACQUIRE(true) { return mu_.try_lock(); }
    // For std::condition_variable waits (see MutexLock::native()).
    std::mutex& native() { return mu_; }

  private:
    std::mutex mu_;
};

// Holds a Mutex for its scope. wait() releases and re-acquires it around a condition-variable wait.
class SCOPED_CAPABILITY MutexLock {
  public:
    explicit MutexLock(Mutex& mu) ACQUIRE(mu) : lock_(mu.native()) {}
    ~MutexLock() RELEASE() = default;
    MutexLock(const MutexLock&) = delete;
    MutexLock& operator=(const MutexLock&) = delete;

    template <typename Predicate>
    void wait(std::condition_variable& cv, Predicate pred) {
        cv.wait(lock_, pred);
    }
    template <typename Duration, typename Predicate>
    bool wait_for(std::condition_variable& cv, Duration d, Predicate pred) {
        return cv.wait_for(lock_, d, pred);
    }

  private:
    std::unique_lock<std::mutex> lock_;
};

}  // namespace kasten
