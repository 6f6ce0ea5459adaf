#include "memory/background_lane.h"

#include "common/log.h"
#include "common/thread_priority.h"

namespace kasten::memory {

namespace {
constexpr int kLowestNice = 19;
}

BackgroundLane::BackgroundLane() : thread_([this] { loop(); }) {}

BackgroundLane::~BackgroundLane() {
    {
        MutexLock lock(mu_);
        stop_ = true;
    }
    work_cv_.notify_one();
    thread_.join();
}

void BackgroundLane::run(const std::function<void()>& task) {
    Handoff handoff;
    handoff.task = &task;
    {
        MutexLock lock(mu_);
        queue_.push_back(&handoff);
    }
    work_cv_.notify_one();
    {
        MutexLock lock(mu_);
        lock.wait(done_cv_, [&] { return handoff.done; });
    }
    if (handoff.error) std::rethrow_exception(handoff.error);
}

std::optional<int> BackgroundLane::nice() const {
    MutexLock lock(mu_);
    return nice_;
}

std::uint64_t BackgroundLane::tasks_run() const {
    MutexLock lock(mu_);
    return tasks_run_;
}

void BackgroundLane::loop() {
    std::optional<int> nice;
    if (Result<int> now = current_thread_nice(); now) {
        Result<int> lowered = lower_current_thread_priority(kLowestNice - *now);
        if (lowered) {
            nice = *lowered;
        } else {
            log::debug("background lane: {}", lowered.status().to_string());
        }
    }
    {
        MutexLock lock(mu_);
        nice_ = nice;
    }
    for (;;) {
        Handoff* handoff = nullptr;
        {
            MutexLock lock(mu_);
            lock.wait(work_cv_, [&]() REQUIRES(mu_) { return stop_ || !queue_.empty(); });
            if (queue_.empty()) return;  // stopping, nothing handed over
            handoff = queue_.front();
            queue_.pop_front();
        }
        std::exception_ptr error;
        try {
            (*handoff->task)();
        } catch (...) {
            error = std::current_exception();
        }
        {
            MutexLock lock(mu_);
            handoff->error = error;
            handoff->done = true;
            ++tasks_run_;
        }
        done_cv_.notify_all();
    }
}

}  // namespace kasten::memory
