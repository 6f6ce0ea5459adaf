#include "api/http/request_gate.h"

#include <algorithm>
#include <thread>

namespace kasten::api {

RequestGate::RequestGate(int max_active) : max_active_(std::max(1, max_active)) {}

RequestGate::Pass RequestGate::enter() {
    MutexLock lock(mu_);
    if (active_ < max_active_ && queue_.empty()) {
        ++active_;
        return Pass(this);
    }
    Waiter me;
    queue_.push_back(&me);
    ++waited_total_;
    lock.wait(me.cv, [&] { return me.admitted; });  // release() counted the slot as ours
    return Pass(this);
}

void RequestGate::release() {
    MutexLock lock(mu_);
    if (queue_.empty()) {
        --active_;
        return;
    }
    Waiter* next = queue_.front();
    queue_.pop_front();
    next->admitted = true;
    // Notified under the lock: the waiter (and its condition variable, on its stack) cannot be gone before this
    // returns, since it must take the lock to see `admitted`.
    next->cv.notify_one();
}

int RequestGate::active() const {
    MutexLock lock(mu_);
    return active_;
}

int RequestGate::waiting() const {
    MutexLock lock(mu_);
    return static_cast<int>(queue_.size());
}

std::uint64_t RequestGate::waited_total() const {
    MutexLock lock(mu_);
    return waited_total_;
}

int effective_max_active_requests(int configured) {
    if (configured > 0) return configured;
    return 8 * std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
}

}  // namespace kasten::api
