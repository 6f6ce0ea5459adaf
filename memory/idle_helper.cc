#include "memory/idle_helper.h"

namespace kasten::memory {

IdleHelper::IdleHelper() : thread_([this] { loop(); }) {}

IdleHelper::~IdleHelper() {
    {
        MutexLock lock(mu_);
        stop_ = true;
    }
    task_cv_.notify_one();
    thread_.join();
}

void IdleHelper::loop() {
    for (;;) {
        const std::function<void()>* task = nullptr;
        {
            MutexLock lock(mu_);
            lock.wait(task_cv_, [&]() REQUIRES(mu_) { return stop_ || task_ != nullptr; });
            if (task_ == nullptr) return;  // stopping, nothing handed over
            task = task_;
            task_ = nullptr;  // started: from here the caller waits for it
        }
        std::exception_ptr error;
        try {
            (*task)();
        } catch (...) {
            error = std::current_exception();
        }
        {
            MutexLock lock(mu_);
            error_ = error;
            done_ = true;
        }
        done_cv_.notify_one();
    }
}

void IdleHelper::run_both(const std::function<void()>& here, const std::function<void()>& there) {
    bool expected = false;
    if (!claimed_.compare_exchange_strong(expected, true, std::memory_order_acquire)) {
        here();
        there();
        return;
    }
    {
        MutexLock lock(mu_);
        task_ = &there;
        done_ = false;
        error_ = nullptr;
    }
    task_cv_.notify_one();
    std::exception_ptr here_error;
    try {
        here();
    } catch (...) {
        here_error = std::current_exception();
    }
    std::exception_ptr there_error;
    bool take_back = false;
    {
        MutexLock lock(mu_);
        if (task_ != nullptr) {  // the helper has not started it: no point waiting for its core
            task_ = nullptr;
            take_back = true;
        } else {
            lock.wait(done_cv_, [&]() REQUIRES(mu_) { return done_; });
            there_error = error_;
            error_ = nullptr;
        }
    }
    if (take_back) {
        taken_back_.fetch_add(1, std::memory_order_relaxed);
        try {
            there();
        } catch (...) {
            there_error = std::current_exception();
        }
    } else {
        handed_off_.fetch_add(1, std::memory_order_relaxed);
    }
    claimed_.store(false, std::memory_order_release);
    if (here_error) std::rethrow_exception(here_error);
    if (there_error) std::rethrow_exception(there_error);
}

}  // namespace kasten::memory
