#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <optional>
#include <thread>

#include "common/mutex.h"
#include "common/thread_annotations.h"

namespace kasten::memory {

// One thread at the lowest CPU priority (nice 19) that runs bulk work handed to it — the analysis and embedding of
// background adds — one task at a time, in the order handed over; each caller blocks until its own task has run.
// When the cores are busy, the threads of normal priority (searches, interactive adds) run first and the lane takes
// what they leave; on an idle machine it runs at full speed. Tasks should hold no lock that others wait for beyond a
// table lookup: a preempted nice-19 holder keeps its waiters waiting until the lane is scheduled again.
//
// Thread-safe. Idle means blocked on a condition variable (no polling).
class BackgroundLane {
  public:
    BackgroundLane();
    // Runs what was handed over, then stops the thread.
    ~BackgroundLane();
    BackgroundLane(const BackgroundLane&) = delete;
    BackgroundLane& operator=(const BackgroundLane&) = delete;

    // Runs `task` on the lane and returns once it has run (exactly once); an exception from it is rethrown here.
    void run(const std::function<void()>& task) EXCLUDES(mu_);

    // The lane thread's nice value once it has lowered itself (19 unless it started lower), or nullopt while it has
    // not started or when the system refused; the lane then runs at the priority it was created with.
    std::optional<int> nice() const EXCLUDES(mu_);
    // Tasks run since construction (tests, metrics).
    std::uint64_t tasks_run() const EXCLUDES(mu_);

  private:
    struct Handoff {
        const std::function<void()>* task = nullptr;
        bool done = false;
        std::exception_ptr error;
    };
    void loop() EXCLUDES(mu_);

    mutable Mutex mu_;
    std::condition_variable work_cv_;  // a task was handed over, or stop
    std::condition_variable done_cv_;  // a task has run
    std::deque<Handoff*> queue_ GUARDED_BY(mu_);
    bool stop_ GUARDED_BY(mu_) = false;
    std::optional<int> nice_ GUARDED_BY(mu_);
    std::uint64_t tasks_run_ GUARDED_BY(mu_) = 0;
    std::thread thread_;
};

}  // namespace kasten::memory
