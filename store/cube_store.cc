#include "store/cube_store.h"

#include <fmt/format.h>

#include "store/database.h"

namespace kasten::store {

namespace {

#define KASTEN_CUBE_COLUMNS "id, name, embedder_id, created_at, metadata_json"

bool valid_cube_id(const std::string& id) {
    if (id.empty() || id.size() > 128) return false;
    for (char c : id) {
        bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
                  c == ':' || c == '-';
        if (!ok) return false;
    }
    return true;
}

void read_cube(const Statement& s, CubeRecord* c) {
    c->id.assign(s.column_text(0));
    c->name.assign(s.column_text(1));
    c->embedder_id.assign(s.column_text(2));
    c->created_at = s.column_int64(3);
    c->metadata_json.assign(s.column_text(4));
}

Status cube_not_found(const std::string& cube_id) {
    return Status::not_found(fmt::format("cube '{}' not found", cube_id));
}

}  // namespace

Status CubeStore::create(const CubeRecord& cube) {
    if (!valid_cube_id(cube.id)) {
        return Status::invalid_argument(fmt::format("cube id '{}' is not [A-Za-z0-9._:-]{{1,128}}", cube.id));
    }
    KASTEN_ASSIGN_OR_RETURN(CachedStatement s, db_.prepare("INSERT INTO cubes (" KASTEN_CUBE_COLUMNS ") "
                                                           "VALUES (?1, ?2, ?3, ?4, ?5)"));
    s->bind_text_ref(1, cube.id);
    s->bind_text_ref(2, cube.name);
    s->bind_text_ref(3, cube.embedder_id);
    s->bind_int64(4, cube.created_at);
    s->bind_text_ref(5, cube.metadata_json);
    Status st = s->run();
    if (st.code() == StatusCode::kAlreadyExists) {
        return Status::already_exists(fmt::format("cube '{}' already exists", cube.id));
    }
    return st;
}

Result<CubeRecord> CubeStore::get(const std::string& cube_id) {
    KASTEN_ASSIGN_OR_RETURN(CachedStatement s, db_.prepare("SELECT " KASTEN_CUBE_COLUMNS " FROM cubes WHERE id = ?1"));
    s->bind_text_ref(1, cube_id);
    KASTEN_ASSIGN_OR_RETURN(bool row, s->step());
    if (!row) return cube_not_found(cube_id);
    CubeRecord c;
    read_cube(*s, &c);
    return c;
}

Result<std::int64_t> CubeStore::count() {
    KASTEN_ASSIGN_OR_RETURN(CachedStatement s, db_.prepare("SELECT COUNT(*) FROM cubes"));
    KASTEN_ASSIGN_OR_RETURN(bool row, s->step());
    if (!row) return Status::internal("COUNT returned no row");
    return s->column_int64(0);
}

Result<std::vector<CubeRecord>> CubeStore::list() {
    KASTEN_ASSIGN_OR_RETURN(CachedStatement s, db_.prepare("SELECT " KASTEN_CUBE_COLUMNS " FROM cubes ORDER BY id"));
    std::vector<CubeRecord> out;
    for (;;) {
        KASTEN_ASSIGN_OR_RETURN(bool row, s->step());
        if (!row) break;
        read_cube(*s, &out.emplace_back());
    }
    return out;
}

Status CubeStore::set_embedder(const std::string& cube_id, const std::string& embedder_id) {
    KASTEN_ASSIGN_OR_RETURN(CachedStatement s, db_.prepare("UPDATE cubes SET embedder_id = ?2 WHERE id = ?1"));
    s->bind_text_ref(1, cube_id);
    s->bind_text_ref(2, embedder_id);
    KASTEN_RETURN_IF_ERROR(s->run());
    if (db_.changes() == 0) return cube_not_found(cube_id);
    return Status::ok();
}

Status CubeStore::check_exists(const std::string& cube_id) {
    KASTEN_ASSIGN_OR_RETURN(CachedStatement s, db_.prepare("SELECT 1 FROM cubes WHERE id = ?1"));
    s->bind_text_ref(1, cube_id);
    KASTEN_ASSIGN_OR_RETURN(bool row, s->step());
    return row ? Status::ok() : cube_not_found(cube_id);
}

Status CubeStore::remove(const std::string& cube_id) {
    // Leaves first, so the foreign-key cascades find nothing left to do; events have no foreign key.
    static constexpr const char* kDeletes[] = {
        "DELETE FROM links WHERE cube_id = ?1",    "DELETE FROM note_versions WHERE cube_id = ?1",
        "DELETE FROM notes WHERE cube_id = ?1",    "DELETE FROM turns WHERE cube_id = ?1",
        "DELETE FROM sessions WHERE cube_id = ?1", "DELETE FROM kv_segments WHERE cube_id = ?1",
        "DELETE FROM jobs WHERE cube_id = ?1",     "DELETE FROM events WHERE cube_id = ?1",
        "DELETE FROM cubes WHERE id = ?1",
    };
    Transaction tx(db_);
    KASTEN_RETURN_IF_ERROR(tx.begin());
    KASTEN_RETURN_IF_ERROR(check_exists(cube_id));
    for (const char* sql : kDeletes) {
        KASTEN_ASSIGN_OR_RETURN(CachedStatement s, db_.prepare(sql));
        s->bind_text_ref(1, cube_id);
        KASTEN_RETURN_IF_ERROR(s->run());
    }
    return tx.commit();
}

Result<CubeStats> CubeStore::stats(const std::string& cube_id) {
    KASTEN_RETURN_IF_ERROR(check_exists(cube_id));
    KASTEN_ASSIGN_OR_RETURN(CachedStatement s, db_.prepare("SELECT (SELECT COUNT(*) FROM sessions WHERE cube_id = ?1),"
                                                           " (SELECT COUNT(*) FROM turns WHERE cube_id = ?1),"
                                                           " (SELECT COUNT(*) FROM notes WHERE cube_id = ?1),"
                                                           " (SELECT COUNT(*) FROM links WHERE cube_id = ?1)"));
    s->bind_text_ref(1, cube_id);
    KASTEN_ASSIGN_OR_RETURN(bool row, s->step());
    if (!row) return Status::internal("cube stats query returned no row");
    CubeStats stats;
    stats.sessions = s->column_int64(0);
    stats.turns = s->column_int64(1);
    stats.notes = s->column_int64(2);
    stats.links = s->column_int64(3);
    return stats;
}

#undef KASTEN_CUBE_COLUMNS

}  // namespace kasten::store
