#include "store/event_log.h"

#include "store/database.h"

namespace kasten::store {

Result<std::int64_t> EventLog::append(const EventRecord& e) {
    KASTEN_ASSIGN_OR_RETURN(CachedStatement s,
                            db_.prepare("INSERT INTO events (cube_id, actor, action, target_type, target_id, "
                                        "detail_json, at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"));
    s->bind_text_ref(1, e.cube_id);
    s->bind_text_ref(2, e.actor);
    s->bind_text_ref(3, e.action);
    s->bind_text_ref(4, e.target_type);
    s->bind_text_ref(5, e.target_id);
    s->bind_text_ref(6, e.detail_json);
    s->bind_int64(7, e.at);
    KASTEN_RETURN_IF_ERROR(s->run());
    return db_.last_insert_rowid();
}

namespace {

Result<std::vector<EventRecord>> read_events(CachedStatement& s) {
    std::vector<EventRecord> out;
    for (;;) {
        KASTEN_ASSIGN_OR_RETURN(bool row, s->step());
        if (!row) break;
        EventRecord& e = out.emplace_back();
        e.seq = s->column_int64(0);
        e.cube_id.assign(s->column_text(1));
        e.actor.assign(s->column_text(2));
        e.action.assign(s->column_text(3));
        e.target_type.assign(s->column_text(4));
        e.target_id.assign(s->column_text(5));
        e.detail_json.assign(s->column_text(6));
        e.at = s->column_int64(7);
    }
    return out;
}

}  // namespace

Result<std::vector<EventRecord>> EventLog::list(const std::string& cube_id, std::int64_t after_seq,
                                                std::int64_t limit) {
    KASTEN_ASSIGN_OR_RETURN(CachedStatement s,
                            db_.prepare("SELECT seq, cube_id, actor, action, target_type, target_id, detail_json, at "
                                        "FROM events WHERE cube_id = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3"));
    s->bind_text_ref(1, cube_id);
    s->bind_int64(2, after_seq);
    s->bind_int64(3, limit < 0 ? -1 : limit);
    return read_events(s);
}

Result<std::vector<EventRecord>> EventLog::list_all(std::int64_t after_seq, std::int64_t limit) {
    KASTEN_ASSIGN_OR_RETURN(CachedStatement s,
                            db_.prepare("SELECT seq, cube_id, actor, action, target_type, target_id, detail_json, at "
                                        "FROM events WHERE seq > ?1 ORDER BY seq LIMIT ?2"));
    s->bind_int64(1, after_seq);
    s->bind_int64(2, limit < 0 ? -1 : limit);
    return read_events(s);
}

}  // namespace kasten::store
