#include "llm/thread_pool.h"

#include <atomic>
#include <vector>

#include <gtest/gtest.h>

namespace kasten::llm {
namespace {

TEST(ThreadPoolTest, RunsEveryTaskExactlyOnce) {
    for (int threads : {1, 2, 4}) {
        ThreadPool pool(threads);
        EXPECT_EQ(pool.size(), threads);
        for (int n_tasks : {0, 1, 3, 64, 1000}) {
            std::vector<std::atomic<int>> hits(static_cast<std::size_t>(n_tasks));
            std::atomic<int> bad_thread{0};
            pool.run(n_tasks, [&](int task, int thread) {
                hits[static_cast<std::size_t>(task)]++;
                if (thread < 0 || thread >= threads) bad_thread++;
            });
            for (int t = 0; t < n_tasks; ++t) EXPECT_EQ(hits[static_cast<std::size_t>(t)].load(), 1) << t;
            EXPECT_EQ(bad_thread.load(), 0);
        }
    }
}

TEST(ThreadPoolTest, ManyShortRegionsInARowComplete) {
    ThreadPool pool(2);
    long long total = 0;
    std::vector<long long> partial(2);
    for (int region = 0; region < 20000; ++region) {
        std::atomic<long long> sum{0};
        pool.run(8, [&](int task, int) { sum += task; });
        total += sum.load();
    }
    EXPECT_EQ(total, 20000LL * 28);
}

TEST(ThreadPoolTest, WorkersSleepAndWakeUp) {
    ThreadPool pool(3);
    std::atomic<int> count{0};
    pool.run(10, [&](int, int) { count++; });
    std::this_thread::sleep_for(std::chrono::milliseconds(50));  // past the spin phase: workers are asleep
    pool.run(10, [&](int, int) { count++; });
    EXPECT_EQ(count.load(), 20);
}

}  // namespace
}  // namespace kasten::llm
