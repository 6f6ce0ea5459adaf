#include "eval/parallel_for.h"

#include <algorithm>
#include <atomic>
#include <mutex>
#include <thread>
#include <vector>

namespace kasten::eval {

Status parallel_for(std::int64_t n, int threads, const std::function<Status(std::int64_t)>& fn) {
    std::atomic<std::int64_t> next{0};
    std::atomic<bool> failed{false};
    std::mutex mu;
    Status first_error;
    auto worker = [&] {
        for (;;) {
            if (failed.load()) return;
            const std::int64_t i = next.fetch_add(1);
            if (i >= n) return;
            Status st = fn(i);
            if (!st.is_ok()) {
                std::lock_guard<std::mutex> lock(mu);
                if (!failed.exchange(true)) first_error = std::move(st);
                return;
            }
        }
    };
    const int count = static_cast<int>(std::clamp<std::int64_t>(n, 1, std::max(1, threads)));
    std::vector<std::thread> pool;
    for (int t = 1; t < count; ++t) pool.emplace_back(worker);
    worker();
    for (auto& t : pool) t.join();
    return failed ? first_error : Status::ok();
}

}  // namespace kasten::eval
