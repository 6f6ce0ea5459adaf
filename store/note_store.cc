#include "store/note_store.h"

#include <fmt/format.h>

#include "store/database.h"
#include "store/embedding_codec.h"
#include "store/string_list_codec.h"

namespace kasten::store {

namespace {

#define KASTEN_NOTE_COLUMNS                                                                                       \
    "id, cube_id, content, kind, keywords, tags, context, source_turn_ids, valid_from, valid_to, recorded_at, "   \
    "superseded_at, superseded_by, status, version, importance, strength, last_access, content_hash, embedding, " \
    "embedder_id, updated_at"
#define KASTEN_VERSION_COLUMNS                                                                                \
    "note_id, version, content, kind, keywords, tags, context, status, valid_from, valid_to, reason, actor, " \
    "created_at"

Status note_not_found(const std::string& cube_id, const std::string& id) {
    return Status::not_found(fmt::format("note '{}' not found in cube '{}'", id, cube_id));
}

Status read_list(const Statement& s, int col, const std::string& id, std::vector<std::string>* out) {
    if (!decode_string_list(s.column_text(col), out)) {
        return Status::corruption(fmt::format("note '{}': column {} is not a JSON array of strings", id, col));
    }
    return Status::ok();
}

Status read_status(const Statement& s, int col, const std::string& id, NoteStatus* out) {
    // parse_note_status takes a std::string; statuses are short, so this stays in the small-string buffer.
    if (!parse_note_status(std::string(s.column_text(col)), out)) {
        return Status::corruption(fmt::format("note '{}': unknown status '{}'", id, s.column_text(col)));
    }
    return Status::ok();
}

// Assigns into `n`, reusing its capacity.
Status read_note(const Statement& s, NoteRecord* n) {
    n->id.assign(s.column_text(0));
    n->cube_id.assign(s.column_text(1));
    n->content.assign(s.column_text(2));
    n->kind.assign(s.column_text(3));
    KASTEN_RETURN_IF_ERROR(read_list(s, 4, n->id, &n->keywords));
    KASTEN_RETURN_IF_ERROR(read_list(s, 5, n->id, &n->tags));
    n->context.assign(s.column_text(6));
    KASTEN_RETURN_IF_ERROR(read_list(s, 7, n->id, &n->source_turn_ids));
    n->valid_from = s.column_optional_int64(8);
    n->valid_to = s.column_optional_int64(9);
    n->recorded_at = s.column_int64(10);
    n->superseded_at = s.column_optional_int64(11);
    n->superseded_by.assign(s.column_text(12));
    KASTEN_RETURN_IF_ERROR(read_status(s, 13, n->id, &n->status));
    n->version = s.column_int(14);
    n->importance = s.column_double(15);
    n->strength = s.column_double(16);
    n->last_access = s.column_int64(17);
    n->content_hash.assign(s.column_text(18));
    if (!read_embedding(s, 19, &n->embedding)) {
        return Status::corruption(fmt::format("note '{}': embedding blob size is not a multiple of 4", n->id));
    }
    n->embedder_id.assign(s.column_text(20));
    n->updated_at = s.column_int64(21);
    return Status::ok();
}

Status read_version(const Statement& s, NoteVersionRecord* v) {
    v->note_id.assign(s.column_text(0));
    v->version = s.column_int(1);
    v->content.assign(s.column_text(2));
    v->kind.assign(s.column_text(3));
    KASTEN_RETURN_IF_ERROR(read_list(s, 4, v->note_id, &v->keywords));
    KASTEN_RETURN_IF_ERROR(read_list(s, 5, v->note_id, &v->tags));
    v->context.assign(s.column_text(6));
    KASTEN_RETURN_IF_ERROR(read_status(s, 7, v->note_id, &v->status));
    v->valid_from = s.column_optional_int64(8);
    v->valid_to = s.column_optional_int64(9);
    v->reason.assign(s.column_text(10));
    v->actor.assign(s.column_text(11));
    v->created_at = s.column_int64(12);
    return Status::ok();
}

// Encoded list columns of a note; must outlive the statement step they are bound to.
struct EncodedLists {
    std::string keywords;
    std::string tags;
    std::string source_turn_ids;
};

// Binds parameters 3..22 of the notes column list (everything but id, cube_id); version at 15 is bound by the caller.
void bind_note_body(Statement& s, const NoteRecord& n, EncodedLists* lists, std::string* scratch) {
    encode_string_list(n.keywords, &lists->keywords);
    encode_string_list(n.tags, &lists->tags);
    encode_string_list(n.source_turn_ids, &lists->source_turn_ids);
    s.bind_text_ref(3, n.content);
    s.bind_text_ref(4, n.kind);
    s.bind_text_ref(5, lists->keywords);
    s.bind_text_ref(6, lists->tags);
    s.bind_text_ref(7, n.context);
    s.bind_text_ref(8, lists->source_turn_ids);
    s.bind_optional_int64(9, n.valid_from);
    s.bind_optional_int64(10, n.valid_to);
    s.bind_int64(11, n.recorded_at);
    s.bind_optional_int64(12, n.superseded_at);
    s.bind_text_ref(13, n.superseded_by);
    s.bind_text(14, note_status_name(n.status));
    s.bind_double(16, n.importance);
    s.bind_double(17, n.strength);
    s.bind_int64(18, n.last_access);
    s.bind_text_ref(19, n.content_hash);
    bind_embedding(s, 20, n.embedding, scratch);
    s.bind_text_ref(21, n.embedder_id);
    s.bind_int64(22, n.updated_at);
}

void bind_version_body(Statement& s, const std::string& content, const std::string& kind,
                       const std::vector<std::string>& keywords, const std::vector<std::string>& tags,
                       const std::string& context, NoteStatus status, const std::optional<TimeMs>& valid_from,
                       const std::optional<TimeMs>& valid_to, EncodedLists* lists) {
    encode_string_list(keywords, &lists->keywords);
    encode_string_list(tags, &lists->tags);
    s.bind_text_ref(4, content);
    s.bind_text_ref(5, kind);
    s.bind_text_ref(6, lists->keywords);
    s.bind_text_ref(7, lists->tags);
    s.bind_text_ref(8, context);
    s.bind_text(9, note_status_name(status));
    s.bind_optional_int64(10, valid_from);
    s.bind_optional_int64(11, valid_to);
}

Result<std::vector<NoteRecord>> read_all(Statement& s) {
    std::vector<NoteRecord> out;
    for (;;) {
        KASTEN_ASSIGN_OR_RETURN(bool row, s.step());
        if (!row) break;
        KASTEN_RETURN_IF_ERROR(read_note(s, &out.emplace_back()));
    }
    return out;
}

}  // namespace

Status NoteStore::write_version(const NoteRecord& n, int version, const std::string& reason, const std::string& actor,
                                TimeMs at) {
    KASTEN_ASSIGN_OR_RETURN(CachedStatement s,
                            db_.prepare("INSERT INTO note_versions (cube_id, " KASTEN_VERSION_COLUMNS
                                        ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)"));
    EncodedLists lists;
    s->bind_text_ref(1, n.cube_id);
    s->bind_text_ref(2, n.id);
    s->bind_int64(3, version);
    bind_version_body(*s, n.content, n.kind, n.keywords, n.tags, n.context, n.status, n.valid_from, n.valid_to, &lists);
    s->bind_text_ref(12, reason);
    s->bind_text_ref(13, actor);
    s->bind_int64(14, at);
    return s->run();
}

Status NoteStore::insert(const NoteRecord& n, const std::string& actor) {
    if (n.version < 1) return Status::invalid_argument(fmt::format("note '{}': version {} < 1", n.id, n.version));
    Transaction tx(db_);
    KASTEN_RETURN_IF_ERROR(tx.begin());
    {
        KASTEN_ASSIGN_OR_RETURN(
            CachedStatement s,
            db_.prepare("INSERT INTO notes (" KASTEN_NOTE_COLUMNS ") SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, "
                        "?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22 "
                        "WHERE EXISTS (SELECT 1 FROM cubes WHERE id = ?2)"));
        EncodedLists lists;
        std::string scratch;
        s->bind_text_ref(1, n.id);
        s->bind_text_ref(2, n.cube_id);
        bind_note_body(*s, n, &lists, &scratch);
        s->bind_int64(15, n.version);
        Status st = s->run();
        if (st.code() == StatusCode::kAlreadyExists) {
            return Status::already_exists(fmt::format("note '{}' already exists", n.id));
        }
        KASTEN_RETURN_IF_ERROR(st);
        if (db_.changes() == 0) return Status::not_found(fmt::format("cube '{}' not found", n.cube_id));
    }
    KASTEN_RETURN_IF_ERROR(write_version(n, n.version, "create", actor, n.recorded_at));
    return tx.commit();
}

Result<NoteRecord> NoteStore::get(const std::string& cube_id, const std::string& id) {
    KASTEN_ASSIGN_OR_RETURN(CachedStatement s,
                            db_.prepare("SELECT " KASTEN_NOTE_COLUMNS " FROM notes WHERE cube_id = ?1 AND id = ?2"));
    s->bind_text_ref(1, cube_id);
    s->bind_text_ref(2, id);
    KASTEN_ASSIGN_OR_RETURN(bool row, s->step());
    if (!row) return note_not_found(cube_id, id);
    NoteRecord n;
    KASTEN_RETURN_IF_ERROR(read_note(*s, &n));
    return n;
}

Result<std::string> NoteStore::cube_of(const std::string& id) {
    KASTEN_ASSIGN_OR_RETURN(CachedStatement s, db_.prepare("SELECT cube_id FROM notes WHERE id = ?1"));
    s->bind_text_ref(1, id);
    KASTEN_ASSIGN_OR_RETURN(bool row, s->step());
    if (!row) return Status::not_found(fmt::format("note '{}' not found", id));
    return s->column_string(0);
}

Result<std::vector<NoteRecord>> NoteStore::get_many(const std::string& cube_id, const std::vector<std::string>& ids) {
    KASTEN_ASSIGN_OR_RETURN(CachedStatement s,
                            db_.prepare("SELECT " KASTEN_NOTE_COLUMNS " FROM notes WHERE cube_id = ?1 AND id = ?2"));
    std::vector<NoteRecord> out;
    out.reserve(ids.size());
    for (const std::string& id : ids) {
        s->reset();
        s->bind_text_ref(1, cube_id);
        s->bind_text_ref(2, id);
        KASTEN_ASSIGN_OR_RETURN(bool row, s->step());
        if (row) KASTEN_RETURN_IF_ERROR(read_note(*s, &out.emplace_back()));
    }
    return out;
}

Status NoteStore::update(const NoteRecord& next, const std::string& reason, const std::string& actor, TimeMs at) {
    Transaction tx(db_);
    KASTEN_RETURN_IF_ERROR(tx.begin());
    int version = 0;
    {
        KASTEN_ASSIGN_OR_RETURN(
            CachedStatement s,
            db_.prepare("UPDATE notes SET content = ?3, kind = ?4, keywords = ?5, tags = ?6, context = ?7, "
                        "source_turn_ids = ?8, valid_from = ?9, valid_to = ?10, recorded_at = ?11, "
                        "superseded_at = ?12, superseded_by = ?13, status = ?14, version = version + 1, "
                        "importance = ?16, strength = ?17, last_access = ?18, content_hash = ?19, embedding = ?20, "
                        "embedder_id = ?21, updated_at = ?22 WHERE cube_id = ?1 AND id = ?2 RETURNING version"));
        EncodedLists lists;
        std::string scratch;
        s->bind_text_ref(1, next.cube_id);
        s->bind_text_ref(2, next.id);
        bind_note_body(*s, next, &lists, &scratch);
        s->bind_int64(22, at);  // overrides next.updated_at
        KASTEN_ASSIGN_OR_RETURN(bool row, s->step());
        if (!row) return note_not_found(next.cube_id, next.id);
        version = s->column_int(0);
        KASTEN_RETURN_IF_ERROR(s->run());
    }
    KASTEN_RETURN_IF_ERROR(write_version(next, version, reason, actor, at));
    return tx.commit();
}

Status NoteStore::remove(const std::string& cube_id, const std::string& id) {
    KASTEN_ASSIGN_OR_RETURN(CachedStatement s, db_.prepare("DELETE FROM notes WHERE cube_id = ?1 AND id = ?2"));
    s->bind_text_ref(1, cube_id);
    s->bind_text_ref(2, id);
    KASTEN_RETURN_IF_ERROR(s->run());
    if (db_.changes() == 0) return note_not_found(cube_id, id);
    return Status::ok();
}

Result<std::vector<NoteRecord>> NoteStore::list(const std::string& cube_id, std::optional<NoteStatus> status,
                                                std::int64_t limit, std::int64_t offset) {
    KASTEN_ASSIGN_OR_RETURN(
        CachedStatement s,
        status ? db_.prepare("SELECT " KASTEN_NOTE_COLUMNS " FROM notes WHERE cube_id = ?1 AND status = ?4 "
                             "ORDER BY recorded_at, id LIMIT ?2 OFFSET ?3")
               : db_.prepare("SELECT " KASTEN_NOTE_COLUMNS " FROM notes WHERE cube_id = ?1 "
                             "ORDER BY recorded_at, id LIMIT ?2 OFFSET ?3"));
    s->bind_text_ref(1, cube_id);
    s->bind_int64(2, limit < 0 ? -1 : limit);
    s->bind_int64(3, offset < 0 ? 0 : offset);
    if (status) s->bind_text(4, note_status_name(*status));
    return read_all(*s);
}

Result<std::vector<NoteVersionRecord>> NoteStore::versions(const std::string& cube_id, const std::string& id) {
    std::vector<NoteVersionRecord> out;
    {
        KASTEN_ASSIGN_OR_RETURN(CachedStatement s, db_.prepare("SELECT " KASTEN_VERSION_COLUMNS " FROM note_versions "
                                                               "WHERE note_id = ?2 AND cube_id = ?1 ORDER BY version"));
        s->bind_text_ref(1, cube_id);
        s->bind_text_ref(2, id);
        for (;;) {
            KASTEN_ASSIGN_OR_RETURN(bool row, s->step());
            if (!row) break;
            KASTEN_RETURN_IF_ERROR(read_version(*s, &out.emplace_back()));
        }
    }
    if (out.empty()) {
        KASTEN_ASSIGN_OR_RETURN(CachedStatement s, db_.prepare("SELECT 1 FROM notes WHERE cube_id = ?1 AND id = ?2"));
        s->bind_text_ref(1, cube_id);
        s->bind_text_ref(2, id);
        KASTEN_ASSIGN_OR_RETURN(bool row, s->step());
        if (!row) return note_not_found(cube_id, id);
    }
    return out;
}

Result<bool> NoteStore::has_active_hash(const std::string& cube_id, const std::string& content_hash) {
    KASTEN_ASSIGN_OR_RETURN(CachedStatement s,
                            db_.prepare("SELECT 1 FROM notes INDEXED BY notes_by_hash WHERE cube_id = ?1 AND "
                                        "content_hash = ?2 AND status = 'active' LIMIT 1"));
    s->bind_text_ref(1, cube_id);
    s->bind_text_ref(2, content_hash);
    return s->step();
}

Status NoteStore::for_each(const std::string& cube_id, const std::function<Status(const NoteRecord&)>& fn) {
    KASTEN_ASSIGN_OR_RETURN(CachedStatement s, db_.prepare("SELECT " KASTEN_NOTE_COLUMNS
                                                           " FROM notes WHERE cube_id = ?1 ORDER BY recorded_at, id"));
    s->bind_text_ref(1, cube_id);
    NoteRecord n;
    for (;;) {
        KASTEN_ASSIGN_OR_RETURN(bool row, s->step());
        if (!row) return Status::ok();
        KASTEN_RETURN_IF_ERROR(read_note(*s, &n));
        KASTEN_RETURN_IF_ERROR(fn(n));
    }
}

Status NoteStore::set_embedding(const std::string& cube_id, const std::string& id, const std::vector<float>& embedding,
                                const std::string& embedder_id) {
    KASTEN_ASSIGN_OR_RETURN(
        CachedStatement s,
        db_.prepare("UPDATE notes SET embedding = ?3, embedder_id = ?4 WHERE cube_id = ?1 AND id = ?2"));
    std::string scratch;
    s->bind_text_ref(1, cube_id);
    s->bind_text_ref(2, id);
    bind_embedding(*s, 3, embedding, &scratch);
    s->bind_text_ref(4, embedder_id);
    KASTEN_RETURN_IF_ERROR(s->run());
    if (db_.changes() == 0) return note_not_found(cube_id, id);
    return Status::ok();
}

Status NoteStore::touch(const std::string& cube_id, const std::string& id, TimeMs last_access, double strength) {
    KASTEN_ASSIGN_OR_RETURN(
        CachedStatement s,
        db_.prepare("UPDATE notes SET last_access = ?3, strength = ?4 WHERE cube_id = ?1 AND id = ?2"));
    s->bind_text_ref(1, cube_id);
    s->bind_text_ref(2, id);
    s->bind_int64(3, last_access);
    s->bind_double(4, strength);
    KASTEN_RETURN_IF_ERROR(s->run());
    if (db_.changes() == 0) return note_not_found(cube_id, id);
    return Status::ok();
}

Result<std::int64_t> NoteStore::count(const std::string& cube_id) {
    KASTEN_ASSIGN_OR_RETURN(CachedStatement s, db_.prepare("SELECT COUNT(*) FROM notes WHERE cube_id = ?1"));
    s->bind_text_ref(1, cube_id);
    KASTEN_ASSIGN_OR_RETURN(bool row, s->step());
    if (!row) return Status::internal("COUNT returned no row");
    return s->column_int64(0);
}

Result<std::int64_t> NoteStore::count_indexed(const std::string& cube_id) {
    KASTEN_ASSIGN_OR_RETURN(CachedStatement s,
                            db_.prepare("SELECT COUNT(*) FROM notes WHERE cube_id = ?1 AND status != 'deleted'"));
    s->bind_text_ref(1, cube_id);
    KASTEN_ASSIGN_OR_RETURN(bool row, s->step());
    if (!row) return Status::internal("COUNT returned no row");
    return s->column_int64(0);
}

Status NoteStore::insert_version(const NoteVersionRecord& v, const std::string& cube_id) {
    KASTEN_ASSIGN_OR_RETURN(CachedStatement s,
                            db_.prepare("INSERT OR REPLACE INTO note_versions (cube_id, " KASTEN_VERSION_COLUMNS
                                        ") SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14 "
                                        "WHERE EXISTS (SELECT 1 FROM notes WHERE id = ?2 AND cube_id = ?1)"));
    EncodedLists lists;
    s->bind_text_ref(1, cube_id);
    s->bind_text_ref(2, v.note_id);
    s->bind_int64(3, v.version);
    bind_version_body(*s, v.content, v.kind, v.keywords, v.tags, v.context, v.status, v.valid_from, v.valid_to, &lists);
    s->bind_text_ref(12, v.reason);
    s->bind_text_ref(13, v.actor);
    s->bind_int64(14, v.created_at);
    KASTEN_RETURN_IF_ERROR(s->run());
    if (db_.changes() == 0) return note_not_found(cube_id, v.note_id);
    return Status::ok();
}

#undef KASTEN_NOTE_COLUMNS
#undef KASTEN_VERSION_COLUMNS

}  // namespace kasten::store
