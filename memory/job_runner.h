#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>

namespace kasten::memory {

// One background thread that runs jobs while there are any. What a job is, and where the queue lives (SQLite), is
// the owner's business: the runner only calls `run_next` until it reports that nothing is due, then sleeps until
// wake(). After a failed job it backs off (1 s, doubling to 60 s) before the next call, so a dead model endpoint is
// not hammered. Thread-safe.
class JobRunner {
  public:
    enum class Outcome { kIdle, kRan, kFailed };

    // Starts the thread. `run_next` runs at most one job and says how it went; it must not throw.
    explicit JobRunner(std::function<Outcome()> run_next);
    // Stops the thread; a job in progress finishes first.
    ~JobRunner();
    JobRunner(const JobRunner&) = delete;
    JobRunner& operator=(const JobRunner&) = delete;

    // New work may be due.
    void wake();
    // Blocks until the thread has found nothing due since the last wake(), or `timeout_ms` passed (then false).
    bool wait_idle(std::int64_t timeout_ms);

  private:
    void loop();

    std::function<Outcome()> run_next_;
    std::mutex mu_;
    std::condition_variable cv_;       // wake() or stop
    std::condition_variable idle_cv_;  // the thread went idle
    bool stop_ = false;
    bool woken_ = true;  // a pass is due (the queue may hold jobs from before a restart)
    bool idle_ = false;
    std::thread thread_;
};

}  // namespace kasten::memory
