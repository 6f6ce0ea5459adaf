#include "memory/note_editor.h"

#include <optional>
#include <set>

#include "memory/id_generator.h"
#include "memory/input_validation.h"
#include "memory/note_text.h"

namespace kasten::memory {

Result<store::NoteRecord> NoteEditor::add(const std::string& cube_id, const NoteInput& in, const std::string& actor) {
    KASTEN_RETURN_IF_ERROR(validate_identifier("cube id", cube_id));
    KASTEN_RETURN_IF_ERROR(validate_text("content", in.content, false));
    KASTEN_RETURN_IF_ERROR(validate_text("kind", in.kind, false));
    KASTEN_RETURN_IF_ERROR(validate_text("context", in.context, true));
    for (const auto& k : in.keywords) KASTEN_RETURN_IF_ERROR(validate_text("keywords", k, false));
    for (const auto& k : in.tags) KASTEN_RETURN_IF_ERROR(validate_text("tags", k, false));
    if (in.importance < 0 || in.importance > 1) return Status::invalid_argument("importance must be within [0, 1]");
    if (in.valid_from && in.valid_to && *in.valid_to < *in.valid_from) {
        return Status::invalid_argument("valid_to is before valid_from");
    }
    const TimeMs now = ctx_.clock->now_ms();
    store::NoteRecord n;
    n.id = generate_id("n_");
    n.cube_id = cube_id;
    n.content = in.content;
    n.kind = in.kind;
    n.keywords = in.keywords;
    n.tags = in.tags;
    n.context = in.context;
    n.source_turn_ids = in.source_turn_ids;
    n.valid_from = in.valid_from;
    n.valid_to = in.valid_to;
    n.recorded_at = now;
    n.importance = in.importance;
    n.strength = 1.0;
    n.last_access = now;
    n.updated_at = now;
    n.content_hash = note_content_hash(n.content);
    n.embedding = ctx_.embedder->embed(note_index_text(n));
    n.embedder_id = ctx_.embedder_id;

    auto write = [&](Repositories& repos, store::EventRecord&) -> Status {
        KASTEN_ASSIGN_OR_RETURN(auto cube, named(repos.cubes.get(cube_id), cube_label(cube_id)));
        KASTEN_RETURN_IF_ERROR(ctx_.index->check_cube_embedder(cube));
        if (!n.source_turn_ids.empty()) {
            KASTEN_ASSIGN_OR_RETURN(auto found, repos.turns.get_many(cube_id, n.source_turn_ids));
            if (found.size() != std::set<std::string>(n.source_turn_ids.begin(), n.source_turn_ids.end()).size()) {
                return Status::invalid_argument("source_turn_ids: some turns do not exist in cube '" + cube_id + "'");
            }
        }
        if (cube.embedder_id.empty()) KASTEN_RETURN_IF_ERROR(repos.cubes.set_embedder(cube_id, ctx_.embedder_id));
        return repos.notes.insert(n, actor);
    };
    auto after = [&](std::int64_t seq) { ctx_.index->index_note(n, /*known_new=*/true, seq); };
    KASTEN_RETURN_IF_ERROR(
        ctx_.writer->commit(event_of(cube_id, actor, "note.add", "note", n.id), write, after).status());
    n.embedding.clear();
    return n;
}

Result<store::NoteRecord> NoteEditor::patch(const std::string& cube_id, const std::string& note_id,
                                            const NotePatch& p) {
    if (p.content) KASTEN_RETURN_IF_ERROR(validate_text("content", *p.content, false));
    if (p.kind) KASTEN_RETURN_IF_ERROR(validate_text("kind", *p.kind, false));
    if (p.context) KASTEN_RETURN_IF_ERROR(validate_text("context", *p.context, true));
    if (p.keywords)
        for (const auto& k : *p.keywords) KASTEN_RETURN_IF_ERROR(validate_text("keywords", k, false));
    if (p.tags)
        for (const auto& k : *p.tags) KASTEN_RETURN_IF_ERROR(validate_text("tags", k, false));
    if (p.importance && (*p.importance < 0 || *p.importance > 1)) {
        return Status::invalid_argument("importance must be within [0, 1]");
    }
    if (p.status && *p.status == store::NoteStatus::kDeleted) {
        return Status::invalid_argument("status 'deleted' is set by DELETE, not by a patch");
    }
    // The note with the patch applied; `changed` says whether any patchable field differs from `cur`.
    auto apply = [&p](const store::NoteRecord& cur, bool* changed) {
        store::NoteRecord n = cur;
        if (p.content) n.content = *p.content;
        if (p.kind) n.kind = *p.kind;
        if (p.keywords) n.keywords = *p.keywords;
        if (p.tags) n.tags = *p.tags;
        if (p.context) n.context = *p.context;
        if (p.valid_from) n.valid_from = *p.valid_from;
        if (p.valid_to) n.valid_to = *p.valid_to;
        if (p.importance) n.importance = *p.importance;
        if (p.status) n.status = *p.status;
        *changed = n.content != cur.content || n.kind != cur.kind || n.keywords != cur.keywords || n.tags != cur.tags ||
                   n.context != cur.context || n.valid_from != cur.valid_from || n.valid_to != cur.valid_to ||
                   n.importance != cur.importance || n.status != cur.status;
        return n;
    };
    // A patch that changes nothing is a no-op: no new version, no event, no re-index; the note is returned as it is.
    KASTEN_ASSIGN_OR_RETURN(std::optional<store::NoteRecord> unchanged,
                            ctx_.writer->locked([&](Repositories& repos) -> Result<std::optional<store::NoteRecord>> {
                                KASTEN_ASSIGN_OR_RETURN(auto cur, named(repos.notes.get(cube_id, note_id),
                                                                        in_cube("memory", note_id, cube_id)));
                                bool changed = false;
                                (void)apply(cur, &changed);
                                if (changed) return std::optional<store::NoteRecord>();
                                cur.embedding.clear();
                                return std::optional<store::NoteRecord>(std::move(cur));
                            }));
    if (unchanged) return std::move(*unchanged);
    store::NoteRecord stored;
    auto write = [&](Repositories& repos, store::EventRecord&) -> Status {
        KASTEN_ASSIGN_OR_RETURN(auto cur,
                                named(repos.notes.get(cube_id, note_id), in_cube("memory", note_id, cube_id)));
        KASTEN_ASSIGN_OR_RETURN(auto cube, repos.cubes.get(cube_id));
        KASTEN_RETURN_IF_ERROR(ctx_.index->check_cube_embedder(cube));
        bool changed = false;
        store::NoteRecord n = apply(cur, &changed);
        if (n.valid_from && n.valid_to && *n.valid_to < *n.valid_from) {
            return Status::invalid_argument("valid_to is before valid_from");
        }
        const TimeMs now = ctx_.clock->now_ms();
        n.updated_at = now;
        n.content_hash = note_content_hash(n.content);
        // Embedding one note under the writer lock costs microseconds (its text is short).
        n.embedding = ctx_.embedder->embed(note_index_text(n));
        n.embedder_id = ctx_.embedder_id;
        KASTEN_RETURN_IF_ERROR(repos.notes.update(n, p.reason, p.actor, now));
        KASTEN_RETURN_IF_ERROR(repos.notes.set_embedding(cube_id, note_id, n.embedding, ctx_.embedder_id));
        KASTEN_ASSIGN_OR_RETURN(stored, repos.notes.get(cube_id, note_id));
        return Status::ok();
    };
    auto after = [&](std::int64_t seq) { ctx_.index->index_note(stored, false, seq); };
    KASTEN_RETURN_IF_ERROR(
        ctx_.writer->commit(event_of(cube_id, p.actor, "note.patch", "note", note_id), write, after).status());
    stored.embedding.clear();
    return stored;
}

Status NoteEditor::remove(const std::string& cube_id, const std::string& note_id, const std::string& actor) {
    auto write = [&](Repositories& repos, store::EventRecord&) -> Status {
        Status st = repos.notes.remove(cube_id, note_id);
        if (st.code() == StatusCode::kNotFound) {
            return Status::not_found("memory '" + note_id + "' does not exist in cube '" + cube_id + "'");
        }
        return st;
    };
    auto after = [&](std::int64_t seq) { ctx_.index->remove_unit(cube_id, retrieval::UnitType::kNote, note_id, seq); };
    return ctx_.writer->commit(event_of(cube_id, actor, "note.delete", "note", note_id), write, after).status();
}

}  // namespace kasten::memory
