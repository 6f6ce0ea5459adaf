#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/result.h"
#include "common/status.h"
#include "store/records.h"

namespace kasten::store {

class Database;

// The jobs table: background work whose state survives restarts. A job moves queued → running → done | failed; a
// running job found at open (its process died) goes back to queued. Every method is one statement and opens no
// transaction, so a job's completion can commit atomically with the work it did (the caller's Transaction).
// Not thread-safe (see Database).
class JobStore {
  public:
    explicit JobStore(Database& db) : db_(db) {}

    // kNotFound when the cube does not exist; kAlreadyExists when the id is taken.
    Status insert(const JobRecord& job);
    // kNotFound when absent.
    Result<JobRecord> get(const std::string& id);
    // The statement behind find_queued, minus its column list (tests check its query plan).
    static constexpr const char* kFindQueuedFrom =
        // INDEXED BY: left to itself the planner takes jobs_queue (state, created_at, id) for the ORDER BY and walks
        // every queued job of every cube, so each add cost O(queue length) while note jobs were backed up.
        " FROM jobs INDEXED BY jobs_by_session WHERE cube_id = ?1 AND kind = ?2 AND session_key = ?3 AND "
        "state = 'queued' ORDER BY created_at DESC, id DESC LIMIT 1";
    // The queued job of `kind` for this session, if any (the newest when several).
    Result<std::optional<JobRecord>> find_queued(const std::string& cube_id, const std::string& kind,
                                                 const std::string& session_key);
    // Jobs in `state`, oldest first (created_at, id); limit < 0 means no limit.
    Result<std::vector<JobRecord>> list_by_state(JobState state, std::int64_t limit);
    // Jobs of one cube, newest first.
    Result<std::vector<JobRecord>> list_for_cube(const std::string& cube_id, std::int64_t limit, std::int64_t offset);
    // Replaces the payload of a queued job. kNotFound when absent or no longer queued (then the caller makes a new
    // job).
    Status set_queued_payload(const std::string& id, const std::string& payload_json, TimeMs at);
    // queued → running, attempts + 1. kNotFound when absent or not queued (another worker took it).
    Status claim(const std::string& id, TimeMs at);
    // → done with `result_json`, error cleared.
    Status finish(const std::string& id, const std::string& result_json, TimeMs at);
    // → `state` (queued for a retry, or failed) with `error`.
    Status set_state(const std::string& id, JobState state, const std::string& error, TimeMs at);
    // Every running job back to queued (at open: their worker died). Returns how many.
    Result<std::int64_t> requeue_running(TimeMs at);
    // Jobs of the cube per state.
    Result<std::int64_t> count(const std::string& cube_id, JobState state);

  private:
    Database& db_;
};

}  // namespace kasten::store
