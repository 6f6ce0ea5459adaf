#include "store/link_store.h"

#include <fmt/format.h>

#include "store/database.h"

namespace kasten::store {

namespace {

#define KASTEN_LINK_COLUMNS "cube_id, src_note_id, dst_note_id, relation, weight, reason, created_at"
#define KASTEN_LINK_ORDER " ORDER BY created_at, src_note_id, dst_note_id, relation"

Result<std::vector<LinkRecord>> read_all(Statement& s) {
    std::vector<LinkRecord> out;
    for (;;) {
        KASTEN_ASSIGN_OR_RETURN(bool row, s.step());
        if (!row) break;
        LinkRecord& l = out.emplace_back();
        l.cube_id.assign(s.column_text(0));
        l.src_note_id.assign(s.column_text(1));
        l.dst_note_id.assign(s.column_text(2));
        l.relation.assign(s.column_text(3));
        l.weight = s.column_double(4);
        l.reason.assign(s.column_text(5));
        l.created_at = s.column_int64(6);
    }
    return out;
}

}  // namespace

Status LinkStore::upsert(const LinkRecord& l) {
    if (l.src_note_id == l.dst_note_id) {
        return Status::invalid_argument(fmt::format("link from note '{}' to itself", l.src_note_id));
    }
    KASTEN_ASSIGN_OR_RETURN(CachedStatement s,
                            db_.prepare("INSERT INTO links (" KASTEN_LINK_COLUMNS ") SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7 "
                                        "WHERE EXISTS (SELECT 1 FROM notes WHERE id = ?2 AND cube_id = ?1) "
                                        "AND EXISTS (SELECT 1 FROM notes WHERE id = ?3 AND cube_id = ?1) "
                                        "ON CONFLICT (src_note_id, dst_note_id, relation) "
                                        "DO UPDATE SET weight = excluded.weight, reason = excluded.reason"));
    s->bind_text_ref(1, l.cube_id);
    s->bind_text_ref(2, l.src_note_id);
    s->bind_text_ref(3, l.dst_note_id);
    s->bind_text_ref(4, l.relation);
    s->bind_double(5, l.weight);
    s->bind_text_ref(6, l.reason);
    s->bind_int64(7, l.created_at);
    KASTEN_RETURN_IF_ERROR(s->run());
    if (db_.changes() == 0) {
        return Status::not_found(
            fmt::format("note '{}' or '{}' not found in cube '{}'", l.src_note_id, l.dst_note_id, l.cube_id));
    }
    return Status::ok();
}

Status LinkStore::remove(const std::string& cube_id, const std::string& src_note_id, const std::string& dst_note_id,
                         const std::string& relation) {
    KASTEN_ASSIGN_OR_RETURN(CachedStatement s,
                            db_.prepare("DELETE FROM links WHERE src_note_id = ?2 AND dst_note_id = ?3 "
                                        "AND relation = ?4 AND cube_id = ?1"));
    s->bind_text_ref(1, cube_id);
    s->bind_text_ref(2, src_note_id);
    s->bind_text_ref(3, dst_note_id);
    s->bind_text_ref(4, relation);
    KASTEN_RETURN_IF_ERROR(s->run());
    if (db_.changes() == 0) {
        return Status::not_found(
            fmt::format("link '{}' -[{}]-> '{}' not found in cube '{}'", src_note_id, relation, dst_note_id, cube_id));
    }
    return Status::ok();
}

Result<std::vector<LinkRecord>> LinkStore::list_for_note(const std::string& cube_id, const std::string& note_id) {
    // Self-links are rejected by upsert, so the two halves never return the same row.
    KASTEN_ASSIGN_OR_RETURN(CachedStatement s,
                            db_.prepare("SELECT " KASTEN_LINK_COLUMNS " FROM links WHERE src_note_id = ?2 AND "
                                        "cube_id = ?1 UNION ALL SELECT " KASTEN_LINK_COLUMNS " FROM links WHERE "
                                        "dst_note_id = ?2 AND cube_id = ?1" KASTEN_LINK_ORDER));
    s->bind_text_ref(1, cube_id);
    s->bind_text_ref(2, note_id);
    return read_all(*s);
}

Result<std::vector<LinkRecord>> LinkStore::list(const std::string& cube_id) {
    KASTEN_ASSIGN_OR_RETURN(CachedStatement s, db_.prepare("SELECT " KASTEN_LINK_COLUMNS
                                                           " FROM links WHERE cube_id = ?1" KASTEN_LINK_ORDER));
    s->bind_text_ref(1, cube_id);
    return read_all(*s);
}

#undef KASTEN_LINK_COLUMNS
#undef KASTEN_LINK_ORDER

}  // namespace kasten::store
