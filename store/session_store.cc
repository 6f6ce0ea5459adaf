#include "store/session_store.h"

#include <fmt/format.h>

#include "store/database.h"
#include "store/embedding_codec.h"

namespace kasten::store {

namespace {

#define KASTEN_SESSION_COLUMNS "id, cube_id, external_id, started_at, summary, embedding, embedder_id"

Status read_session(const Statement& s, SessionRecord* r) {
    r->id.assign(s.column_text(0));
    r->cube_id.assign(s.column_text(1));
    r->external_id.assign(s.column_text(2));
    r->started_at = s.column_int64(3);
    r->summary.assign(s.column_text(4));
    if (!read_embedding(s, 5, &r->embedding)) {
        return Status::corruption(fmt::format("session '{}': embedding blob size is not a multiple of 4", r->id));
    }
    r->embedder_id.assign(s.column_text(6));
    return Status::ok();
}

Status session_not_found(const std::string& cube_id, const std::string& id) {
    return Status::not_found(fmt::format("session '{}' not found in cube '{}'", id, cube_id));
}

}  // namespace

Status SessionStore::insert(const SessionRecord& r) {
    KASTEN_ASSIGN_OR_RETURN(CachedStatement s, db_.prepare("INSERT INTO sessions (" KASTEN_SESSION_COLUMNS ") "
                                                           "SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7 "
                                                           "WHERE EXISTS (SELECT 1 FROM cubes WHERE id = ?2)"));
    std::string scratch;
    s->bind_text_ref(1, r.id);
    s->bind_text_ref(2, r.cube_id);
    s->bind_text_ref(3, r.external_id);
    s->bind_int64(4, r.started_at);
    s->bind_text_ref(5, r.summary);
    bind_embedding(*s, 6, r.embedding, &scratch);
    s->bind_text_ref(7, r.embedder_id);
    Status st = s->run();
    if (st.code() == StatusCode::kAlreadyExists) {
        return Status::already_exists(
            fmt::format("session '{}' (external id '{}') already exists in cube '{}'", r.id, r.external_id, r.cube_id));
    }
    KASTEN_RETURN_IF_ERROR(st);
    if (db_.changes() == 0) return Status::not_found(fmt::format("cube '{}' not found", r.cube_id));
    return Status::ok();
}

Result<SessionRecord> SessionStore::get_one(const char* sql, const std::string& cube_id, const std::string& key) {
    KASTEN_ASSIGN_OR_RETURN(CachedStatement s, db_.prepare(sql));
    s->bind_text_ref(1, cube_id);
    s->bind_text_ref(2, key);
    KASTEN_ASSIGN_OR_RETURN(bool row, s->step());
    if (!row) return session_not_found(cube_id, key);
    SessionRecord r;
    KASTEN_RETURN_IF_ERROR(read_session(*s, &r));
    return r;
}

Result<SessionRecord> SessionStore::get(const std::string& cube_id, const std::string& id) {
    return get_one("SELECT " KASTEN_SESSION_COLUMNS " FROM sessions WHERE cube_id = ?1 AND id = ?2", cube_id, id);
}

Result<SessionRecord> SessionStore::get_by_external(const std::string& cube_id, const std::string& external_id) {
    return get_one("SELECT " KASTEN_SESSION_COLUMNS " FROM sessions WHERE cube_id = ?1 AND external_id = ?2", cube_id,
                   external_id);
}

Result<std::vector<SessionRecord>> SessionStore::list(const std::string& cube_id, std::int64_t limit,
                                                      std::int64_t offset) {
    KASTEN_ASSIGN_OR_RETURN(CachedStatement s,
                            db_.prepare("SELECT " KASTEN_SESSION_COLUMNS " FROM sessions WHERE cube_id = ?1 "
                                        "ORDER BY started_at, id LIMIT ?2 OFFSET ?3"));
    s->bind_text_ref(1, cube_id);
    s->bind_int64(2, limit < 0 ? -1 : limit);
    s->bind_int64(3, offset < 0 ? 0 : offset);
    std::vector<SessionRecord> out;
    for (;;) {
        KASTEN_ASSIGN_OR_RETURN(bool row, s->step());
        if (!row) break;
        KASTEN_RETURN_IF_ERROR(read_session(*s, &out.emplace_back()));
    }
    return out;
}

Status SessionStore::update_embedding(const std::string& cube_id, const std::string& id,
                                      const std::vector<float>& embedding, const std::string& embedder_id) {
    KASTEN_ASSIGN_OR_RETURN(
        CachedStatement s,
        db_.prepare("UPDATE sessions SET embedding = ?3, embedder_id = ?4, key_user_sum = NULL, key_all_sum = NULL, "
                    "key_user_turns = 0 WHERE cube_id = ?1 AND id = ?2"));
    std::string scratch;
    s->bind_text_ref(1, cube_id);
    s->bind_text_ref(2, id);
    bind_embedding(*s, 3, embedding, &scratch);
    s->bind_text_ref(4, embedder_id);
    KASTEN_RETURN_IF_ERROR(s->run());
    if (db_.changes() == 0) return session_not_found(cube_id, id);
    return Status::ok();
}

Result<SessionKeyState> SessionStore::key_state(const std::string& cube_id, const std::string& id) {
    KASTEN_ASSIGN_OR_RETURN(CachedStatement s,
                            db_.prepare("SELECT key_user_sum, key_all_sum, key_user_turns, embedder_id FROM sessions "
                                        "WHERE cube_id = ?1 AND id = ?2"));
    s->bind_text_ref(1, cube_id);
    s->bind_text_ref(2, id);
    KASTEN_ASSIGN_OR_RETURN(bool row, s->step());
    if (!row) return session_not_found(cube_id, id);
    SessionKeyState k;
    if (!read_embedding(*s, 0, &k.user_sum) || !read_embedding(*s, 1, &k.all_sum)) {
        return Status::corruption(fmt::format("session '{}': key sum blob size is not a multiple of 4", id));
    }
    k.user_turns = s->column_int64(2);
    k.embedder_id.assign(s->column_text(3));
    return k;
}

Status SessionStore::update_key(const std::string& cube_id, const std::string& id, const std::vector<float>& embedding,
                                const SessionKeyState& key) {
    KASTEN_ASSIGN_OR_RETURN(CachedStatement s,
                            db_.prepare("UPDATE sessions SET embedding = ?3, embedder_id = ?4, key_user_sum = ?5, "
                                        "key_all_sum = ?6, key_user_turns = ?7 WHERE cube_id = ?1 AND id = ?2"));
    std::string scratch[3];
    s->bind_text_ref(1, cube_id);
    s->bind_text_ref(2, id);
    bind_embedding(*s, 3, embedding, &scratch[0]);
    s->bind_text_ref(4, key.embedder_id);
    bind_embedding(*s, 5, key.user_sum, &scratch[1]);
    bind_embedding(*s, 6, key.all_sum, &scratch[2]);
    s->bind_int64(7, key.user_turns);
    KASTEN_RETURN_IF_ERROR(s->run());
    if (db_.changes() == 0) return session_not_found(cube_id, id);
    return Status::ok();
}

Status SessionStore::set_started_at(const std::string& cube_id, const std::string& id, TimeMs started_at) {
    KASTEN_ASSIGN_OR_RETURN(CachedStatement s,
                            db_.prepare("UPDATE sessions SET started_at = ?3 WHERE cube_id = ?1 AND id = ?2"));
    s->bind_text_ref(1, cube_id);
    s->bind_text_ref(2, id);
    s->bind_int64(3, started_at);
    KASTEN_RETURN_IF_ERROR(s->run());
    if (db_.changes() == 0) return session_not_found(cube_id, id);
    return Status::ok();
}

Status SessionStore::set_summary(const std::string& cube_id, const std::string& id, const std::string& summary) {
    KASTEN_ASSIGN_OR_RETURN(CachedStatement s,
                            db_.prepare("UPDATE sessions SET summary = ?3 WHERE cube_id = ?1 AND id = ?2"));
    s->bind_text_ref(1, cube_id);
    s->bind_text_ref(2, id);
    s->bind_text_ref(3, summary);
    KASTEN_RETURN_IF_ERROR(s->run());
    if (db_.changes() == 0) return session_not_found(cube_id, id);
    return Status::ok();
}

Status SessionStore::remove(const std::string& cube_id, const std::string& id) {
    KASTEN_ASSIGN_OR_RETURN(CachedStatement s, db_.prepare("DELETE FROM sessions WHERE cube_id = ?1 AND id = ?2"));
    s->bind_text_ref(1, cube_id);
    s->bind_text_ref(2, id);
    KASTEN_RETURN_IF_ERROR(s->run());
    if (db_.changes() == 0) return session_not_found(cube_id, id);
    return Status::ok();
}

Result<std::int64_t> SessionStore::count(const std::string& cube_id) {
    KASTEN_ASSIGN_OR_RETURN(CachedStatement s, db_.prepare("SELECT COUNT(*) FROM sessions WHERE cube_id = ?1"));
    s->bind_text_ref(1, cube_id);
    KASTEN_ASSIGN_OR_RETURN(bool row, s->step());
    if (!row) return Status::internal("COUNT returned no row");
    return s->column_int64(0);
}

#undef KASTEN_SESSION_COLUMNS

}  // namespace kasten::store
