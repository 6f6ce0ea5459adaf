#include "memory/job_runner.h"

#include <algorithm>
#include <chrono>

namespace kasten::memory {

JobRunner::JobRunner(std::function<Outcome()> run_next) : run_next_(std::move(run_next)) {
    thread_ = std::thread([this] { loop(); });
}

JobRunner::~JobRunner() {
    {
        std::lock_guard<std::mutex> lock(mu_);
        stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
}

void JobRunner::wake() {
    {
        std::lock_guard<std::mutex> lock(mu_);
        woken_ = true;
        idle_ = false;
    }
    cv_.notify_all();
}

bool JobRunner::wait_idle(std::int64_t timeout_ms) {
    std::unique_lock<std::mutex> lock(mu_);
    return idle_cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms), [&] { return (idle_ && !woken_) || stop_; });
}

void JobRunner::loop() {
    std::chrono::milliseconds backoff(0);
    while (true) {
        {
            std::unique_lock<std::mutex> lock(mu_);
            if (backoff.count() > 0) {
                cv_.wait_for(lock, backoff, [&] { return stop_; });
            } else {
                cv_.wait(lock, [&] { return woken_ || stop_; });
            }
            if (stop_) return;
            woken_ = false;
        }
        Outcome outcome = Outcome::kRan;
        while (outcome == Outcome::kRan) {
            {
                std::lock_guard<std::mutex> lock(mu_);
                if (stop_) return;
            }
            outcome = run_next_();
        }
        if (outcome == Outcome::kFailed) {
            backoff = std::min(std::chrono::milliseconds(60000),
                               backoff.count() == 0 ? std::chrono::milliseconds(1000) : backoff * 2);
            continue;  // retry after the pause, even without a wake()
        }
        backoff = std::chrono::milliseconds(0);
        std::lock_guard<std::mutex> lock(mu_);
        if (!woken_) {
            idle_ = true;
            idle_cv_.notify_all();
        }
    }
}

}  // namespace kasten::memory
