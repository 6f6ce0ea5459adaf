#include "store/job_store.h"

#include "store/database.h"

namespace kasten::store {

namespace {

constexpr const char* kColumns =
    "id, cube_id, kind, state, payload_json, created_at, updated_at, attempts, error, result_json, session_key";

Result<JobRecord> read_job(Statement& s) {
    JobRecord j;
    j.id = s.column_string(0);
    j.cube_id = s.column_string(1);
    j.kind = s.column_string(2);
    const std::string state = s.column_string(3);
    if (!parse_job_state(state, &j.state)) {
        return Status::corruption("job '" + j.id + "' has an unknown state '" + state + "'");
    }
    j.payload_json = s.column_string(4);
    j.created_at = s.column_int64(5);
    j.updated_at = s.column_int64(6);
    j.attempts = s.column_int(7);
    j.error = s.column_string(8);
    j.result_json = s.column_string(9);
    j.session_key = s.column_string(10);
    return j;
}

Result<std::vector<JobRecord>> read_all(Statement& s) {
    std::vector<JobRecord> out;
    while (true) {
        KASTEN_ASSIGN_OR_RETURN(bool row, s.step());
        if (!row) break;
        KASTEN_ASSIGN_OR_RETURN(JobRecord j, read_job(s));
        out.push_back(std::move(j));
    }
    return out;
}

}  // namespace

Status JobStore::insert(const JobRecord& j) {
    KASTEN_ASSIGN_OR_RETURN(CachedStatement s, db_.prepare(std::string("INSERT INTO jobs (") + kColumns +
                                                           ") SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11 "
                                                           "WHERE EXISTS (SELECT 1 FROM cubes WHERE id = ?2)"));
    const std::string state = job_state_name(j.state);
    s->bind_text_ref(1, j.id);
    s->bind_text_ref(2, j.cube_id);
    s->bind_text_ref(3, j.kind);
    s->bind_text_ref(4, state);
    s->bind_text_ref(5, j.payload_json);
    s->bind_int64(6, j.created_at);
    s->bind_int64(7, j.updated_at);
    s->bind_int64(8, j.attempts);
    s->bind_text_ref(9, j.error);
    s->bind_text_ref(10, j.result_json);
    s->bind_text_ref(11, j.session_key);
    Status st = s->run();
    if (st.code() == StatusCode::kAlreadyExists) return Status::already_exists("job '" + j.id + "' already exists");
    KASTEN_RETURN_IF_ERROR(st);
    if (db_.changes() == 0) return Status::not_found("cube '" + j.cube_id + "' does not exist");
    return Status::ok();
}

Result<JobRecord> JobStore::get(const std::string& id) {
    KASTEN_ASSIGN_OR_RETURN(CachedStatement s,
                            db_.prepare(std::string("SELECT ") + kColumns + " FROM jobs WHERE id = ?1"));
    s->bind_text_ref(1, id);
    KASTEN_ASSIGN_OR_RETURN(bool row, s->step());
    if (!row) return Status::not_found("job '" + id + "' does not exist");
    return read_job(*s);
}

Result<std::optional<JobRecord>> JobStore::find_queued(const std::string& cube_id, const std::string& kind,
                                                       const std::string& session_key) {
    KASTEN_ASSIGN_OR_RETURN(CachedStatement s, db_.prepare(std::string("SELECT ") + kColumns + kFindQueuedFrom));
    s->bind_text_ref(1, cube_id);
    s->bind_text_ref(2, kind);
    s->bind_text_ref(3, session_key);
    KASTEN_ASSIGN_OR_RETURN(bool row, s->step());
    if (!row) return std::optional<JobRecord>();
    KASTEN_ASSIGN_OR_RETURN(JobRecord j, read_job(*s));
    return std::optional<JobRecord>(std::move(j));
}

Result<std::vector<JobRecord>> JobStore::list_by_state(JobState state, std::int64_t limit) {
    KASTEN_ASSIGN_OR_RETURN(CachedStatement s,
                            db_.prepare(std::string("SELECT ") + kColumns +
                                        " FROM jobs WHERE state = ?1 ORDER BY created_at, id LIMIT ?2"));
    const std::string name = job_state_name(state);
    s->bind_text_ref(1, name);
    s->bind_int64(2, limit);
    return read_all(*s);
}

Result<std::vector<JobRecord>> JobStore::list_for_cube(const std::string& cube_id, std::int64_t limit,
                                                       std::int64_t offset) {
    KASTEN_ASSIGN_OR_RETURN(CachedStatement s, db_.prepare(std::string("SELECT ") + kColumns +
                                                           " FROM jobs WHERE cube_id = ?1 ORDER BY created_at DESC, "
                                                           "id DESC LIMIT ?2 OFFSET ?3"));
    s->bind_text_ref(1, cube_id);
    s->bind_int64(2, limit);
    s->bind_int64(3, offset < 0 ? 0 : offset);
    return read_all(*s);
}

Status JobStore::set_queued_payload(const std::string& id, const std::string& payload_json, TimeMs at) {
    KASTEN_ASSIGN_OR_RETURN(CachedStatement s,
                            db_.prepare("UPDATE jobs SET payload_json = ?2, updated_at = ?3 WHERE id = ?1 AND "
                                        "state = 'queued'"));
    s->bind_text_ref(1, id);
    s->bind_text_ref(2, payload_json);
    s->bind_int64(3, at);
    KASTEN_RETURN_IF_ERROR(s->run());
    if (db_.changes() == 0) return Status::not_found("job '" + id + "' is not queued");
    return Status::ok();
}

Status JobStore::claim(const std::string& id, TimeMs at) {
    KASTEN_ASSIGN_OR_RETURN(CachedStatement s,
                            db_.prepare("UPDATE jobs SET state = 'running', attempts = attempts + 1, updated_at = ?2 "
                                        "WHERE id = ?1 AND state = 'queued'"));
    s->bind_text_ref(1, id);
    s->bind_int64(2, at);
    KASTEN_RETURN_IF_ERROR(s->run());
    if (db_.changes() == 0) return Status::not_found("job '" + id + "' is not queued");
    return Status::ok();
}

Status JobStore::finish(const std::string& id, const std::string& result_json, TimeMs at) {
    KASTEN_ASSIGN_OR_RETURN(CachedStatement s,
                            db_.prepare("UPDATE jobs SET state = 'done', result_json = ?2, error = '', "
                                        "updated_at = ?3 WHERE id = ?1"));
    s->bind_text_ref(1, id);
    s->bind_text_ref(2, result_json);
    s->bind_int64(3, at);
    KASTEN_RETURN_IF_ERROR(s->run());
    if (db_.changes() == 0) return Status::not_found("job '" + id + "' does not exist");
    return Status::ok();
}

Status JobStore::set_state(const std::string& id, JobState state, const std::string& error, TimeMs at) {
    KASTEN_ASSIGN_OR_RETURN(CachedStatement s,
                            db_.prepare("UPDATE jobs SET state = ?2, error = ?3, updated_at = ?4 WHERE id = ?1"));
    const std::string name = job_state_name(state);
    s->bind_text_ref(1, id);
    s->bind_text_ref(2, name);
    s->bind_text_ref(3, error);
    s->bind_int64(4, at);
    KASTEN_RETURN_IF_ERROR(s->run());
    if (db_.changes() == 0) return Status::not_found("job '" + id + "' does not exist");
    return Status::ok();
}

Result<std::int64_t> JobStore::requeue_running(TimeMs at) {
    KASTEN_ASSIGN_OR_RETURN(CachedStatement s,
                            db_.prepare("UPDATE jobs SET state = 'queued', updated_at = ?1 WHERE state = 'running'"));
    s->bind_int64(1, at);
    KASTEN_RETURN_IF_ERROR(s->run());
    return static_cast<std::int64_t>(db_.changes());
}

Result<std::int64_t> JobStore::count(const std::string& cube_id, JobState state) {
    KASTEN_ASSIGN_OR_RETURN(CachedStatement s,
                            db_.prepare("SELECT COUNT(*) FROM jobs WHERE cube_id = ?1 AND state = ?2"));
    const std::string name = job_state_name(state);
    s->bind_text_ref(1, cube_id);
    s->bind_text_ref(2, name);
    KASTEN_ASSIGN_OR_RETURN(bool row, s->step());
    if (!row) return Status::internal("COUNT returned no row");
    return s->column_int64(0);
}

}  // namespace kasten::store
