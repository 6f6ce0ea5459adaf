#include "memory/index_repairer.h"

#include <algorithm>
#include <chrono>

#include "common/log.h"

namespace kasten::memory {

IndexRepairer::IndexRepairer(MemoryContext& ctx, int delay_ms, int max_delay_ms)
    : ctx_(ctx), delay_ms_(std::max(1, delay_ms)), max_delay_ms_(std::max(std::max(1, delay_ms), max_delay_ms)) {
    ctx_.index->set_dirty_listener([this] { wake(); });
    thread_ = std::thread([this] { loop(); });
    if (ctx_.index->dirty()) wake();  // recovery at open could not finish
}

IndexRepairer::~IndexRepairer() {
    ctx_.index->set_dirty_listener({});
    {
        MutexLock lock(mu_);
        stopping_ = true;
    }
    cv_.notify_all();
    thread_.join();
}

void IndexRepairer::wake() {
    {
        MutexLock lock(mu_);
        woken_ = true;
    }
    cv_.notify_all();
}

Status IndexRepairer::repair_now() {
    if (!ctx_.index->dirty()) return Status::ok();
    return ctx_.writer->locked([&](Repositories& repos) { return ctx_.index->repair(repos); });
}

void IndexRepairer::loop() {
    std::int64_t delay = delay_ms_;
    for (;;) {
        {
            MutexLock lock(mu_);
            lock.wait(cv_, [&]() REQUIRES(mu_) { return stopping_ || woken_; });
            if (stopping_) return;
            // Wait before trying: a disk that just filled up rarely has room a moment later.
            lock.wait_for(cv_, std::chrono::milliseconds(delay), [&]() REQUIRES(mu_) { return stopping_; });
            if (stopping_) return;
            woken_ = false;
        }
        Status st = repair_now();
        if (st.is_ok() && !ctx_.index->dirty()) {
            delay = delay_ms_;
            continue;
        }
        if (!st.is_ok()) log::warn("lexical index repair failed (retrying in {} ms): {}", delay, st.to_string());
        delay = std::min(delay * 2, max_delay_ms_);
        wake();  // try again
    }
}

}  // namespace kasten::memory
