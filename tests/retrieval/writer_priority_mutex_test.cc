#include "retrieval/writer_priority_mutex.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <shared_mutex>
#include <thread>
#include <vector>

namespace kasten::retrieval {
namespace {

TEST(WriterPriorityMutexTest, ReadersShareWritersExclude) {
    WriterPriorityMutex mu;
    std::shared_lock a(mu);
    std::shared_lock b(mu);  // a second reader gets in at once
    std::atomic<bool> written{false};
    std::thread writer([&] {
        std::unique_lock lock(mu);
        written.store(true);
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    EXPECT_FALSE(written.load());
    a.unlock();
    b.unlock();
    writer.join();
    EXPECT_TRUE(written.load());
}

TEST(WriterPriorityMutexTest, WriterIsNotStarvedByOverlappingReaders) {
    WriterPriorityMutex mu;
    std::atomic<bool> stop{false};
    std::atomic<int> started{0};
    long shared_value = 0;
    std::vector<std::thread> readers;
    for (int t = 0; t < 4; ++t) {
        readers.emplace_back([&] {
            started.fetch_add(1);
            while (!stop.load()) {
                std::shared_lock lock(mu);
                volatile long seen = shared_value;
                (void)seen;
                std::this_thread::sleep_for(std::chrono::microseconds(200));  // readers always overlap
            }
        });
    }
    while (started.load() < 4) std::this_thread::yield();
    std::atomic<bool> writer_done{false};
    std::thread writer([&] {
        for (int i = 0; i < 200; ++i) {
            std::unique_lock lock(mu);
            ++shared_value;
        }
        writer_done.store(true);
    });
    // Each write waits only for the readers already inside (~0.2 ms); with a reader-preferring lock the writer
    // would wait until the readers stop.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (!writer_done.load() && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    const bool finished_while_reading = writer_done.load();
    stop.store(true);
    writer.join();
    for (auto& r : readers) r.join();
    EXPECT_TRUE(finished_while_reading);
    EXPECT_EQ(shared_value, 200);
}

}  // namespace
}  // namespace kasten::retrieval
