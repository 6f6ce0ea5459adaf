#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/mutex.h"
#include "common/result.h"
#include "common/thread_annotations.h"
#include "memory/job_runner.h"
#include "memory/memory_context.h"
#include "memory/note_weaver.h"
#include "memory/searcher.h"

namespace kasten::memory {

// Note jobs: the new turns of a session are distilled into notes, linked and evolved (NoteWeaver), in jobs kept in
// SQLite. Adds queue a job inside their own transaction (queue()); a job is claimed, woven outside every lock, and
// its plan stored and completed in one transaction, after which its notes are indexed. With background_jobs a
// JobRunner thread runs them as they come; otherwise run_one() does (CLI, eval, tests).
//
// Link candidates (notes near a new note) are cached across jobs: the same neighbours come back for many notes. A
// job's own changes update the cache; every other change to notes must call forget_cached_notes().
class NoteJobScheduler {
  public:
    NoteJobScheduler(MemoryContext& ctx, Searcher& searcher);
    ~NoteJobScheduler();
    NoteJobScheduler(const NoteJobScheduler&) = delete;
    NoteJobScheduler& operator=(const NoteJobScheduler&) = delete;

    // Whether jobs are made at all (a note builder is configured).
    bool enabled() const { return ctx_.options.note_builder != nullptr; }
    // Starts the background runner (background_jobs) and re-queues jobs a dead process left running.
    [[nodiscard]] Status start();
    // Stops the background runner; a job in progress finishes first.
    void stop();

    // Adds `new_turns` to the session's queued job, or queues one; inside the caller's transaction. Returns its id.
    Result<std::string> queue(Repositories& repos, const std::string& cube_id, const std::string& session_id,
                              const std::vector<store::TurnRecord>& new_turns, TimeMs now);
    // New work may be due (after the transaction that queued it committed).
    void wake();

    // Runs the oldest queued job in the calling thread, if any.
    Result<JobRunner::Outcome> run_one() EXCLUDES(run_mu_);
    // Background mode: blocks until no job is queued or running, or timeout (false).
    bool wait_idle(std::int64_t timeout_ms);

    // Empties the link-candidate cache: notes changed other than by a job.
    void forget_cached_notes() EXCLUDES(cache_mu_);

  private:
    struct Neighbourhood;
    using Claimed = std::optional<std::pair<store::JobRecord, NoteBatch>>;
    Result<Claimed> claim(Repositories& repos);
    Status apply(const store::JobRecord& job, const WeavePlan& plan, const std::string& builder_id);
    JobRunner::Outcome run_next();

    MemoryContext& ctx_;
    Searcher& searcher_;
    // One job runs at a time (builders and deciders are called from one thread at a time).
    Mutex run_mu_;
    std::unique_ptr<JobRunner> runner_;

    // Notes as link candidates, with when each was said (the conv_time of its first source turn, 0 if unknown).
    // Strength and last access may be stale (links are decided from text, embedding, status and time).
    static constexpr std::size_t kMaxCachedNotes = 100000;
    Mutex cache_mu_;
    std::unordered_map<std::string, std::pair<store::NoteRecord, TimeMs>> cache_ GUARDED_BY(cache_mu_);
};

}  // namespace kasten::memory
