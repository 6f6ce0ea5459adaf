#pragma once

#include <condition_variable>
#include <cstdint>
#include <mutex>

namespace kasten::retrieval {

// A shared (readers/writer) mutex that lets a waiting writer in before any new reader.
//
// std::shared_mutex on glibc prefers readers: under a steady stream of overlapping searches a writer can wait
// forever. Here, once a writer waits, new readers queue behind it; readers already inside finish first.
// Meets the SharedMutex requirements (use with std::unique_lock / std::shared_lock). Not recursive.
class WriterPriorityMutex {
  public:
    void lock() {
        std::unique_lock lock(mu_);
        ++waiting_writers_;
        writer_cv_.wait(lock, [this] { return !writer_active_ && readers_ == 0; });
        --waiting_writers_;
        writer_active_ = true;
    }
    void unlock() {
        {
            std::lock_guard lock(mu_);
            writer_active_ = false;
        }
        writer_cv_.notify_one();
        reader_cv_.notify_all();
    }
    void lock_shared() {
        std::unique_lock lock(mu_);
        reader_cv_.wait(lock, [this] { return !writer_active_ && waiting_writers_ == 0; });
        ++readers_;
    }
    void unlock_shared() {
        bool last = false;
        {
            std::lock_guard lock(mu_);
            last = --readers_ == 0;
        }
        if (last) writer_cv_.notify_one();
    }

  private:
    std::mutex mu_;
    std::condition_variable reader_cv_;
    std::condition_variable writer_cv_;
    std::uint32_t readers_ = 0;
    std::uint32_t waiting_writers_ = 0;
    bool writer_active_ = false;
};

}  // namespace kasten::retrieval
