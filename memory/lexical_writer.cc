#include "memory/lexical_writer.h"

#include <algorithm>
#include <chrono>
#include <map>
#include <tuple>
#include <vector>

#include "common/log.h"
#include "common/thread_priority.h"

namespace kasten::memory {

LexicalWriter::LexicalWriter(retrieval::LexicalIndex& index, bool background, std::int64_t commit_every,
                             std::string watermark_key, std::shared_ptr<IndexWriteFaults> faults, FailureFn on_failure)
    : index_(index),
      background_(background),
      commit_every_(commit_every),
      watermark_key_(std::move(watermark_key)),
      faults_(std::move(faults)),
      on_failure_(std::move(on_failure)) {
    if (background_) worker_ = std::thread([this] { worker_loop(); });
}

LexicalWriter::~LexicalWriter() {
    if (!worker_.joinable()) return;
    {
        MutexLock lock(mu_);
        stopping_ = true;
    }
    work_cv_.notify_all();
    worker_.join();
}

Status LexicalWriter::apply(const Task& t) {
    if (faults_) KASTEN_RETURN_IF_ERROR(faults_->check("lexical index write"));
    switch (t.op) {
        case Op::kUpsert:
            return index_.upsert_analyzed(t.attrs, t.analysis, false, t.known_new);
        case Op::kAddTerms:
            return index_.upsert_analyzed(t.attrs, t.analysis, /*merge_existing=*/true, t.known_new);
        case Op::kRemove:
            return index_.remove(t.attrs.cube_id, t.attrs.type, t.attrs.id);
        case Op::kRemoveSession:
            return index_.remove_session(t.attrs.cube_id, t.attrs.session_id);
        case Op::kRemoveCube:
            return index_.remove_cube(t.attrs.cube_id);
    }
    return Status::internal("unknown lexical writer op");
}

Status LexicalWriter::enqueue(Task task) {
    if (!background_) {
        Status st = apply(task);
        {
            MutexLock lock(mu_);
            ++enqueued_;
            ++applied_;
        }
        if (!st.is_ok()) report_failure(st, task.seq);
        return st;
    }
    {
        MutexLock lock(mu_);
        lock.wait(idle_cv_, [&]() REQUIRES(mu_) { return queue_.size() < kMaxQueuedTasks; });
        ++enqueued_;
        last_task_of_cube_[task.attrs.cube_id] = enqueued_;
        queue_.push_back(std::move(task));
    }
    work_cv_.notify_one();
    return Status::ok();
}

void LexicalWriter::drain() {
    MutexLock lock(mu_);
    const std::int64_t target = enqueued_;
    lock.wait(idle_cv_, [&]() REQUIRES(mu_) { return applied_ >= target; });
}

void LexicalWriter::drain_cube(const std::string& cube_id) {
    MutexLock lock(mu_);
    auto it = last_task_of_cube_.find(cube_id);
    if (it == last_task_of_cube_.end()) return;
    const std::int64_t target = it->second;
    lock.wait(idle_cv_, [&]() REQUIRES(mu_) { return applied_ >= target; });
}

bool LexicalWriter::failed() {
    MutexLock lock(mu_);
    return failed_;
}

Status LexicalWriter::commit(std::int64_t seq, bool repaired) {
    MutexLock lock(commit_mu_);
    return commit_locked(seq, repaired, seq);
}

Status LexicalWriter::commit_locked(std::int64_t seq, bool repaired, std::int64_t first_lost_seq) {
    bool failed = false;
    {
        MutexLock lock(mu_);
        failed = failed_;
    }
    Status st = faults_ ? faults_->check("lexical index commit") : Status::ok();
    if (st.is_ok() && seq > 0 && (repaired || !failed)) st = index_.set_metadata(watermark_key_, std::to_string(seq));
    if (st.is_ok()) st = index_.commit();
    if (!st.is_ok()) {
        // Xapian has dropped every change since the last commit: they are lost until the owner repairs.
        log::error("committing the lexical index: {}", st.to_string());
        report_failure(st, first_lost_seq);
        return st;
    }
    if (repaired) {
        MutexLock lock(mu_);
        failed_ = false;
    }
    return st;
}

void LexicalWriter::mark_failed() {
    MutexLock lock(mu_);
    failed_ = true;
}

void LexicalWriter::report_failure(const Status& error, std::int64_t seq) {
    {
        MutexLock lock(mu_);
        failed_ = true;
    }
    if (on_failure_) on_failure_(error, seq);
}

std::int64_t LexicalWriter::applied() {
    MutexLock lock(mu_);
    return applied_;
}

std::int64_t LexicalWriter::coalesced() {
    MutexLock lock(mu_);
    return coalesced_;
}

void LexicalWriter::worker_loop() {
    // Searches come first when the cores are busy: the index's writes run one nice level per step lower (Linux
    // schedules threads by their own nice value; lowering it needs no privilege). A writer that falls behind fills
    // the bounded queue, and enqueue() then slows the adds, not the searches.
    if (Result<int> lowered = lower_current_thread_priority(kWorkerNice); !lowered) {
        log::debug("lexical writer: {}", lowered.status().to_string());
    }
    std::vector<Task> batch;
    std::vector<bool> skip;
    for (;;) {
        // The watermark a commit after this batch may record: its last event, unless that event's changes continue
        // in the queue (then the event before it).
        std::int64_t safe_seq = 0;
        {
            MutexLock lock(mu_);
            lock.wait(work_cv_, [&]() REQUIRES(mu_) { return stopping_ || !queue_.empty(); });
            if (queue_.empty() && stopping_) return;
            const size_t n = std::min(queue_.size(), kBatch);
            batch.clear();
            for (size_t i = 0; i < n; ++i) {
                batch.push_back(std::move(queue_.front()));
                queue_.pop_front();
            }
            safe_seq = batch.back().seq;
            if (!queue_.empty() && queue_.front().seq == safe_seq) --safe_seq;
        }
        idle_cv_.notify_all();  // space freed

        // Coalesce: term additions to a unit with no other change of it in between are summed into the first.
        skip.assign(batch.size(), false);
        std::map<std::tuple<std::string, retrieval::UnitType, std::string>, size_t> open;
        std::int64_t saved = 0;
        for (size_t i = 0; i < batch.size(); ++i) {
            const Task& t = batch[i];
            auto key = std::make_tuple(t.attrs.cube_id, t.attrs.type, t.attrs.id);
            if (t.op == Op::kAddTerms) {
                auto it = open.find(key);
                if (it == open.end()) {
                    open.emplace(std::move(key), i);
                    continue;
                }
                Task& first = batch[it->second];
                first.analysis = retrieval::LexicalIndex::merge({&first.analysis, &t.analysis});
                first.attrs = t.attrs;  // the latest attributes (e.g. an earlier start time)
                skip[i] = true;
                ++saved;
            } else if (t.op == Op::kRemoveSession || t.op == Op::kRemoveCube) {
                open.clear();
            } else {
                open.erase(key);
            }
        }

        if (uncommitted_ == 0) first_uncommitted_ = batch.front().seq;
        Status first_error;
        std::int64_t first_failed_seq = 0;
        for (size_t i = 0; i < batch.size(); ++i) {
            if (skip[i]) continue;
            Status st = apply(batch[i]);
            if (!st.is_ok()) {
                log::error("indexing {} {}: {}", retrieval::unit_type_name(batch[i].attrs.type), batch[i].attrs.id,
                           st.to_string());
                if (first_error.is_ok()) {
                    first_error = st;
                    first_failed_seq = batch[i].seq;
                }
            }
        }
        const bool failed = !first_error.is_ok();
        // Reported before the tasks count as applied, so a reader past the barrier sees the index dirty.
        if (failed) report_failure(first_error, first_failed_seq);
        // Tasks are applied in event order, so everything up to this batch's last event is in the index. After a
        // failure the watermark stays put.
        uncommitted_ += static_cast<std::int64_t>(batch.size());
        bool any_failed = false;
        {
            MutexLock lock(mu_);
            if (failed) failed_ = true;
            any_failed = failed_;
            coalesced_ += saved;
            applied_ += static_cast<std::int64_t>(batch.size());  // searchable now; the commit only makes it durable
            for (auto it = last_task_of_cube_.begin(); it != last_task_of_cube_.end();) {
                it = it->second <= applied_ ? last_task_of_cube_.erase(it) : std::next(it);
            }
        }
        idle_cv_.notify_all();
        if (uncommitted_ >= commit_every_ && !any_failed) {
            const auto t0 = std::chrono::steady_clock::now();
            MutexLock commit_lock(commit_mu_);
            Status st = commit_locked(safe_seq, false, first_uncommitted_);
            log::debug("lexical index commit of {} changes: {:.1f} ms", uncommitted_,
                       std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
            if (st.is_ok()) uncommitted_ = 0;
        }
    }
}

}  // namespace kasten::memory
