#include "memory/lexical_writer.h"

#include <algorithm>
#include <vector>

#include "common/log.h"

namespace kasten::memory {

LexicalWriter::LexicalWriter(retrieval::LexicalIndex& index, bool background, std::int64_t commit_every,
                             std::string watermark_key)
    : index_(index), background_(background), commit_every_(commit_every), watermark_key_(std::move(watermark_key)) {
    if (background_) worker_ = std::thread([this] { worker_loop(); });
}

LexicalWriter::~LexicalWriter() {
    if (!worker_.joinable()) return;
    {
        std::lock_guard<std::mutex> lock(mu_);
        stopping_ = true;
    }
    work_cv_.notify_all();
    worker_.join();
}

Status LexicalWriter::enqueue(Task task) {
    if (!background_) return index_.upsert_analyzed(task.attrs, task.analysis, false, task.known_new);
    std::unique_lock<std::mutex> lock(mu_);
    idle_cv_.wait(lock, [&] { return queue_.size() < kMaxQueuedTasks; });
    queue_.push_back(std::move(task));
    lock.unlock();
    work_cv_.notify_one();
    return Status::ok();
}

void LexicalWriter::drain() {
    if (!background_) return;
    std::unique_lock<std::mutex> lock(mu_);
    idle_cv_.wait(lock, [&] { return queue_.empty() && in_flight_ == 0; });
}

bool LexicalWriter::failed() {
    std::lock_guard<std::mutex> lock(mu_);
    return failed_;
}

void LexicalWriter::worker_loop() {
    std::vector<Task> batch;
    std::unique_lock<std::mutex> lock(mu_);
    for (;;) {
        work_cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
        if (queue_.empty() && stopping_) return;
        const size_t n = std::min(queue_.size(), kBatch);
        batch.clear();
        for (size_t i = 0; i < n; ++i) {
            batch.push_back(std::move(queue_.front()));
            queue_.pop_front();
        }
        in_flight_ = n;
        lock.unlock();
        idle_cv_.notify_all();  // space freed
        bool failed = false;
        for (const auto& t : batch) {
            Status st = index_.upsert_analyzed(t.attrs, t.analysis, false, t.known_new);
            if (!st.is_ok()) {
                failed = true;
                log::error("indexing {} {}: {}", retrieval::unit_type_name(t.attrs.type), t.attrs.id, st.to_string());
            }
        }
        // Tasks are applied in event order and the owner drains the queue before any other index change, so
        // everything up to this batch's last event is in the index. After a failure the watermark stays put.
        uncommitted_ += static_cast<std::int64_t>(n);
        lock.lock();
        if (failed) failed_ = true;
        const bool any_failed = failed_;
        lock.unlock();
        if (uncommitted_ >= commit_every_ && !any_failed) {
            Status st = index_.set_metadata(watermark_key_, std::to_string(batch.back().seq));
            if (st.is_ok()) st = index_.commit();
            if (!st.is_ok()) log::error("committing the lexical index: {}", st.to_string());
            uncommitted_ = 0;
        }
        lock.lock();
        in_flight_ = 0;
        idle_cv_.notify_all();
    }
}

}  // namespace kasten::memory
