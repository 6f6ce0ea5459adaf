#include "store/turn_store.h"

#include <algorithm>

#include <fmt/format.h>

#include "store/database.h"
#include "store/embedding_codec.h"

namespace kasten::store {

namespace {

#define KASTEN_TURN_COLUMNS \
    "id, cube_id, session_id, idx, role, content, conv_time, ingested_at, embedding, embedder_id"
#define KASTEN_TURN_ORDER " ORDER BY conv_time, session_id, idx"

// Assigns into `t`, reusing its string and vector capacity.
Status read_turn(const Statement& s, TurnRecord* t) {
    t->id.assign(s.column_text(0));
    t->cube_id.assign(s.column_text(1));
    t->session_id.assign(s.column_text(2));
    t->index = s.column_int(3);
    t->role.assign(s.column_text(4));
    t->content.assign(s.column_text(5));
    t->conv_time = s.column_int64(6);
    t->ingested_at = s.column_int64(7);
    if (!read_embedding(s, 8, &t->embedding)) {
        return Status::corruption(fmt::format("turn '{}': embedding blob size is not a multiple of 4", t->id));
    }
    t->embedder_id.assign(s.column_text(9));
    return Status::ok();
}

Status turn_not_found(const std::string& cube_id, const std::string& id) {
    return Status::not_found(fmt::format("turn '{}' not found in cube '{}'", id, cube_id));
}

Result<std::vector<TurnRecord>> read_all(Statement& s) {
    std::vector<TurnRecord> out;
    for (;;) {
        KASTEN_ASSIGN_OR_RETURN(bool row, s.step());
        if (!row) break;
        KASTEN_RETURN_IF_ERROR(read_turn(s, &out.emplace_back()));
    }
    return out;
}

}  // namespace

Status TurnStore::insert(const TurnRecord& t) {
    // The EXISTS guard makes a turn of another cube's session (or of no session) kNotFound, not a silent cross-cube
    // row.
    KASTEN_ASSIGN_OR_RETURN(CachedStatement s,
                            db_.prepare("INSERT INTO turns (" KASTEN_TURN_COLUMNS ") "
                                        "SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10 "
                                        "WHERE EXISTS (SELECT 1 FROM sessions WHERE id = ?3 AND cube_id = ?2)"));
    std::string scratch;
    s->bind_text_ref(1, t.id);
    s->bind_text_ref(2, t.cube_id);
    s->bind_text_ref(3, t.session_id);
    s->bind_int64(4, t.index);
    s->bind_text_ref(5, t.role);
    s->bind_text_ref(6, t.content);
    s->bind_int64(7, t.conv_time);
    s->bind_int64(8, t.ingested_at);
    bind_embedding(*s, 9, t.embedding, &scratch);
    s->bind_text_ref(10, t.embedder_id);
    Status st = s->run();
    if (!st.is_ok()) {
        if (st.code() == StatusCode::kAlreadyExists) {
            return Status::already_exists(
                fmt::format("turn '{}' or index {} of session '{}' already exists", t.id, t.index, t.session_id));
        }
        return st;
    }
    if (db_.changes() == 0) {
        return Status::not_found(fmt::format("session '{}' not found in cube '{}'", t.session_id, t.cube_id));
    }
    return Status::ok();
}

Result<TurnRecord> TurnStore::get(const std::string& cube_id, const std::string& id) {
    KASTEN_ASSIGN_OR_RETURN(CachedStatement s,
                            db_.prepare("SELECT " KASTEN_TURN_COLUMNS " FROM turns WHERE cube_id = ?1 AND id = ?2"));
    s->bind_text_ref(1, cube_id);
    s->bind_text_ref(2, id);
    KASTEN_ASSIGN_OR_RETURN(bool row, s->step());
    if (!row) return turn_not_found(cube_id, id);
    TurnRecord t;
    KASTEN_RETURN_IF_ERROR(read_turn(*s, &t));
    return t;
}

Result<TimeMs> TurnStore::conv_time(const std::string& cube_id, const std::string& id) {
    KASTEN_ASSIGN_OR_RETURN(CachedStatement s,
                            db_.prepare("SELECT conv_time FROM turns WHERE cube_id = ?1 AND id = ?2"));
    s->bind_text_ref(1, cube_id);
    s->bind_text_ref(2, id);
    KASTEN_ASSIGN_OR_RETURN(bool row, s->step());
    if (!row) return turn_not_found(cube_id, id);
    return static_cast<TimeMs>(s->column_int64(0));
}

Result<std::vector<TurnRecord>> TurnStore::get_many(const std::string& cube_id, const std::vector<std::string>& ids) {
    KASTEN_ASSIGN_OR_RETURN(CachedStatement s,
                            db_.prepare("SELECT " KASTEN_TURN_COLUMNS " FROM turns WHERE cube_id = ?1 AND id = ?2"));
    std::vector<TurnRecord> out;
    out.reserve(ids.size());
    for (const std::string& id : ids) {
        s->reset();
        s->bind_text_ref(1, cube_id);
        s->bind_text_ref(2, id);
        KASTEN_ASSIGN_OR_RETURN(bool row, s->step());
        if (row) KASTEN_RETURN_IF_ERROR(read_turn(*s, &out.emplace_back()));
    }
    return out;
}

Result<std::vector<TurnRecord>> TurnStore::list_by_session(const std::string& cube_id, const std::string& session_id) {
    KASTEN_ASSIGN_OR_RETURN(
        CachedStatement s,
        db_.prepare("SELECT " KASTEN_TURN_COLUMNS " FROM turns WHERE session_id = ?2 AND cube_id = ?1 ORDER BY idx"));
    s->bind_text_ref(1, cube_id);
    s->bind_text_ref(2, session_id);
    return read_all(*s);
}

Result<std::vector<TurnRecord>> TurnStore::list_range(const std::string& cube_id, const std::string& session_id,
                                                      int from_index, int to_index) {
    KASTEN_ASSIGN_OR_RETURN(CachedStatement s,
                            db_.prepare("SELECT " KASTEN_TURN_COLUMNS " FROM turns WHERE session_id = ?2 AND "
                                        "cube_id = ?1 AND idx >= ?3 AND idx <= ?4 ORDER BY idx"));
    s->bind_text_ref(1, cube_id);
    s->bind_text_ref(2, session_id);
    s->bind_int64(3, from_index);
    s->bind_int64(4, to_index);
    return read_all(*s);
}

Result<std::vector<TurnPlace>> TurnStore::all_places(const std::string& cube_id) {
    KASTEN_ASSIGN_OR_RETURN(
        CachedStatement s,
        db_.prepare("SELECT id, session_id, idx FROM turns WHERE cube_id = ?1 ORDER BY session_id, idx"));
    s->bind_text_ref(1, cube_id);
    std::vector<TurnPlace> out;
    for (;;) {
        KASTEN_ASSIGN_OR_RETURN(bool row, s->step());
        if (!row) break;
        out.push_back(TurnPlace{std::string(s->column_text(0)), std::string(s->column_text(1)), s->column_int(2)});
    }
    return out;
}

Result<int> TurnStore::next_index(const std::string& cube_id, const std::string& session_id) {
    KASTEN_ASSIGN_OR_RETURN(
        CachedStatement s,
        db_.prepare("SELECT COALESCE(MAX(idx) + 1, 0) FROM turns WHERE session_id = ?2 AND cube_id = ?1"));
    s->bind_text_ref(1, cube_id);
    s->bind_text_ref(2, session_id);
    KASTEN_ASSIGN_OR_RETURN(bool row, s->step());
    if (!row) return Status::internal("MAX returned no row");
    return s->column_int(0);
}

Result<std::vector<TurnRecord>> TurnStore::list(const std::string& cube_id, std::int64_t limit, std::int64_t offset) {
    KASTEN_ASSIGN_OR_RETURN(CachedStatement s,
                            db_.prepare("SELECT " KASTEN_TURN_COLUMNS " FROM turns WHERE cube_id = ?1" KASTEN_TURN_ORDER
                                        " LIMIT ?2 OFFSET ?3"));
    s->bind_text_ref(1, cube_id);
    s->bind_int64(2, limit < 0 ? -1 : limit);
    s->bind_int64(3, offset < 0 ? 0 : offset);
    return read_all(*s);
}

Status TurnStore::for_each(const std::string& cube_id, const std::function<Status(const TurnRecord&)>& fn) {
    KASTEN_ASSIGN_OR_RETURN(CachedStatement s, db_.prepare("SELECT " KASTEN_TURN_COLUMNS
                                                           " FROM turns WHERE cube_id = ?1" KASTEN_TURN_ORDER));
    s->bind_text_ref(1, cube_id);
    TurnRecord t;
    for (;;) {
        KASTEN_ASSIGN_OR_RETURN(bool row, s->step());
        if (!row) return Status::ok();
        KASTEN_RETURN_IF_ERROR(read_turn(*s, &t));
        KASTEN_RETURN_IF_ERROR(fn(t));
    }
}

Status TurnStore::set_embedding(const std::string& cube_id, const std::string& id, const std::vector<float>& embedding,
                                const std::string& embedder_id) {
    KASTEN_ASSIGN_OR_RETURN(
        CachedStatement s,
        db_.prepare("UPDATE turns SET embedding = ?3, embedder_id = ?4 WHERE cube_id = ?1 AND id = ?2"));
    std::string scratch;
    s->bind_text_ref(1, cube_id);
    s->bind_text_ref(2, id);
    bind_embedding(*s, 3, embedding, &scratch);
    s->bind_text_ref(4, embedder_id);
    KASTEN_RETURN_IF_ERROR(s->run());
    if (db_.changes() == 0) return turn_not_found(cube_id, id);
    return Status::ok();
}

Status TurnStore::remove(const std::string& cube_id, const std::string& id) {
    KASTEN_ASSIGN_OR_RETURN(CachedStatement s, db_.prepare("DELETE FROM turns WHERE cube_id = ?1 AND id = ?2"));
    s->bind_text_ref(1, cube_id);
    s->bind_text_ref(2, id);
    KASTEN_RETURN_IF_ERROR(s->run());
    if (db_.changes() == 0) return turn_not_found(cube_id, id);
    return Status::ok();
}

Result<std::int64_t> TurnStore::count(const std::string& cube_id) {
    KASTEN_ASSIGN_OR_RETURN(CachedStatement s, db_.prepare("SELECT COUNT(*) FROM turns WHERE cube_id = ?1"));
    s->bind_text_ref(1, cube_id);
    KASTEN_ASSIGN_OR_RETURN(bool row, s->step());
    if (!row) return Status::internal("COUNT returned no row");
    return s->column_int64(0);
}

Result<std::vector<std::string>> TurnStore::ids(const std::string& cube_id) {
    KASTEN_ASSIGN_OR_RETURN(CachedStatement s,
                            db_.prepare("SELECT id FROM turns WHERE cube_id = ?1" KASTEN_TURN_ORDER));
    s->bind_text_ref(1, cube_id);
    std::vector<std::string> out;
    for (;;) {
        KASTEN_ASSIGN_OR_RETURN(bool row, s->step());
        if (!row) break;
        out.emplace_back(s->column_text(0));
    }
    return out;
}

#undef KASTEN_TURN_COLUMNS
#undef KASTEN_TURN_ORDER

}  // namespace kasten::store
