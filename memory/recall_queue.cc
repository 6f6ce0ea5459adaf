#include "memory/recall_queue.h"

#include "memory/memory_strength.h"
#include "memory/repositories.h"

namespace kasten::memory {

void RecallQueue::recall(const std::string& cube_id, const std::string& note_id, TimeMs at, double seen) {
    MutexLock lock(mu_);
    auto [it, inserted] = queued_.try_emplace({cube_id, note_id}, Recall{at, refreshed_strength(seen)});
    if (!inserted) {
        it->second.strength = refreshed_strength(it->second.strength);
        it->second.last_access = std::max(it->second.last_access, at);
    }
}

bool RecallQueue::overlay(const std::string& cube_id, const std::string& note_id, Recall* out) {
    MutexLock lock(mu_);
    auto it = queued_.find({cube_id, note_id});
    if (it == queued_.end()) return false;
    *out = it->second;
    return true;
}

Status RecallQueue::apply(Repositories& repos) {
    std::map<std::pair<std::string, std::string>, Recall> batch;
    {
        MutexLock lock(mu_);
        if (queued_.empty()) return Status::ok();
        batch = queued_;
    }
    for (const auto& [key, r] : batch) {
        Status st = repos.notes.touch(key.first, key.second, r.last_access, r.strength);
        if (!st.is_ok() && st.code() != StatusCode::kNotFound) return st;
    }
    MutexLock lock(mu_);
    // Recalls queued meanwhile (a newer entry) stay for the next batch.
    for (const auto& [key, r] : batch) {
        auto it = queued_.find(key);
        if (it != queued_.end() && it->second.last_access == r.last_access && it->second.strength == r.strength) {
            queued_.erase(it);
        }
    }
    return Status::ok();
}

void RecallQueue::forget_cube(const std::string& cube_id) {
    MutexLock lock(mu_);
    for (auto it = queued_.begin(); it != queued_.end();) {
        it = it->first.first == cube_id ? queued_.erase(it) : std::next(it);
    }
}

std::int64_t RecallQueue::size() {
    MutexLock lock(mu_);
    return static_cast<std::int64_t>(queued_.size());
}

}  // namespace kasten::memory
