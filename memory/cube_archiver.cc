#include "memory/cube_archiver.h"

#include <algorithm>
#include <map>
#include <tuple>

#include "memory/cube_archive.h"
#include "memory/id_generator.h"
#include "memory/input_validation.h"
#include "memory/note_text.h"
#include "memory/session_key.h"

namespace kasten::memory {

Status CubeArchiver::export_cube(const std::string& cube_id, std::ostream& out) {
    CubeArchive a;
    {
        auto r = ctx_.readers->lease();
        // One read transaction: the archive is one consistent state even while writes go on.
        const bool in_tx = !ctx_.writer->in_memory();
        if (in_tx) KASTEN_RETURN_IF_ERROR(r->db.exec("BEGIN"));
        auto end = [&] {
            if (in_tx) (void)r->db.exec("COMMIT");
        };
        auto read = [&]() -> Status {
            KASTEN_ASSIGN_OR_RETURN(auto c, named(r->cubes.get(cube_id), cube_label(cube_id)));
            a.cube = std::move(c);
            KASTEN_ASSIGN_OR_RETURN(a.sessions, r->sessions.list(cube_id, -1, 0));
            for (const auto& s : a.sessions) {
                KASTEN_ASSIGN_OR_RETURN(auto ts, r->turns.list_by_session(cube_id, s.id));
                for (auto& t : ts) a.turns.push_back(std::move(t));
            }
            KASTEN_RETURN_IF_ERROR(r->notes.for_each(cube_id, [&](const store::NoteRecord& n) -> Status {
                a.notes.push_back(n);
                return Status::ok();
            }));
            std::sort(a.notes.begin(), a.notes.end(), [](const auto& x, const auto& y) {
                return std::tie(x.recorded_at, x.id) < std::tie(y.recorded_at, y.id);
            });
            for (const auto& n : a.notes) {
                KASTEN_ASSIGN_OR_RETURN(auto vs, r->notes.versions(cube_id, n.id));
                for (auto& v : vs) a.note_versions.push_back(std::move(v));
            }
            KASTEN_ASSIGN_OR_RETURN(a.links, r->links.list(cube_id));
            return Status::ok();
        };
        Status st = read();
        end();
        KASTEN_RETURN_IF_ERROR(st);
    }
    return write_cube_archive(a, out);
}

namespace {

// Rewrites a reference through `ids` (archive id -> stored id); false when the archive does not hold the target.
bool remap(std::string& id, const std::map<std::string, std::string>& ids) {
    auto it = ids.find(id);
    if (it == ids.end()) return false;
    id = it->second;
    return true;
}

}  // namespace

Result<ImportSummary> CubeArchiver::import_cube(std::istream& in, const std::optional<std::string>& target_cube_id,
                                                const std::string& actor, ImportIds ids) {
    KASTEN_ASSIGN_OR_RETURN(CubeArchive a, read_cube_archive(in));
    if (target_cube_id) a.cube.id = *target_cube_id;
    KASTEN_RETURN_IF_ERROR(validate_identifier("cube id", a.cube.id));
    // Embeddings are derived: recompute them with the active embedder.
    std::map<std::string, std::vector<const store::TurnRecord*>> by_session;
    for (auto& t : a.turns) {
        t.cube_id = a.cube.id;
        t.embedding = ctx_.embedder->embed(t.content);
        t.embedder_id = ctx_.embedder_id;
    }
    for (const auto& t : a.turns) by_session[t.session_id].push_back(&t);
    // Per session, by position in a.sessions (ids may be reassigned below).
    std::vector<retrieval::LexicalIndex::Analysis> session_analyses(a.sessions.size());
    std::vector<store::SessionKeyState> session_keys(a.sessions.size());
    for (std::size_t i = 0; i < a.sessions.size(); ++i) {
        auto& s = a.sessions[i];
        s.cube_id = a.cube.id;
        std::vector<store::TurnRecord> ts;
        for (const auto* t : by_session[s.id]) ts.push_back(*t);
        std::sort(ts.begin(), ts.end(), [](const auto& x, const auto& y) { return x.index < y.index; });
        session_analyses[i] = SessionKey::analysis(ts);
        session_keys[i] = SessionKey::build(*ctx_.embedder, ts);
        s.embedding = SessionKey::embedding(*ctx_.embedder, session_keys[i]);
        s.embedder_id = ctx_.embedder_id;
    }
    for (auto& n : a.notes) {
        n.cube_id = a.cube.id;
        n.embedding = ctx_.embedder->embed(note_index_text(n));
        n.embedder_id = ctx_.embedder_id;
    }
    for (auto& l : a.links) l.cube_id = a.cube.id;
    a.cube.embedder_id = ctx_.embedder_id;

    ImportSummary sum;
    // Ids are unique across the store. kReassign stores every record under a fresh id (so an archive can neither
    // collide with nor reveal another cube's ids); kKeep keeps the archive's ids (a restore; a clash is refused).
    // Either way every reference inside the archive follows its record, and references to ids the archive does not
    // hold (a turn deleted after a note cited it, or an id from anywhere else) are dropped: an imported cube only
    // ever points at its own records.
    auto assign_ids = [&]() {
        std::map<std::string, std::string> sessions, turns, notes;
        auto assign = [&](std::string& id, std::string_view prefix, std::map<std::string, std::string>& map) {
            const std::string original = id;
            if (ids == ImportIds::kReassign) {
                id = generate_id(prefix);
                sum.id_map[original] = id;
            }
            map[original] = id;
        };
        for (auto& s : a.sessions) assign(s.id, "s_", sessions);
        for (auto& t : a.turns) {
            assign(t.id, "t_", turns);
            remap(t.session_id, sessions);  // read_cube_archive checked that the session is in the archive
        }
        for (auto& n : a.notes) assign(n.id, "n_", notes);
        for (auto& n : a.notes) {
            std::vector<std::string> kept;
            for (std::string id : n.source_turn_ids) {
                if (remap(id, turns)) {
                    kept.push_back(std::move(id));
                } else {
                    ++sum.dropped_references;
                }
            }
            n.source_turn_ids = std::move(kept);
            if (!n.superseded_by.empty() && !remap(n.superseded_by, notes)) {
                n.superseded_by.clear();
                ++sum.dropped_references;
            }
        }
        for (auto& v : a.note_versions) remap(v.note_id, notes);  // checked by read_cube_archive
        for (auto& l : a.links) {
            remap(l.src_note_id, notes);
            remap(l.dst_note_id, notes);
        }
    };
    assign_ids();

    auto write = [&](Repositories& repos, store::EventRecord&) -> Status {
        Status st = repos.cubes.create(a.cube);
        if (st.code() == StatusCode::kAlreadyExists) {
            return Status::already_exists("cube '" + a.cube.id + "' already exists; import into a new cube id");
        }
        KASTEN_RETURN_IF_ERROR(st);
        auto clash = [](Status s, const std::string& what) {
            if (s.code() == StatusCode::kAlreadyExists) {
                return Status::already_exists(what +
                                              " already exists in this store (a restore keeps the archive's ids; "
                                              "delete the original cube, or import with new ids)");
            }
            return s;
        };
        for (std::size_t i = 0; i < a.sessions.size(); ++i) {
            const auto& s = a.sessions[i];
            KASTEN_RETURN_IF_ERROR(clash(repos.sessions.insert(s), "session " + s.id));
            KASTEN_RETURN_IF_ERROR(repos.sessions.update_key(a.cube.id, s.id, s.embedding, session_keys[i]));
        }
        for (const auto& t : a.turns) KASTEN_RETURN_IF_ERROR(clash(repos.turns.insert(t), "turn " + t.id));
        for (const auto& n : a.notes) KASTEN_RETURN_IF_ERROR(clash(repos.notes.insert(n, actor), "note " + n.id));
        // insert() wrote a "create" row for each note's current version; the archive's history replaces it exactly.
        for (const auto& v : a.note_versions) KASTEN_RETURN_IF_ERROR(repos.notes.insert_version(v, a.cube.id));
        for (const auto& l : a.links) KASTEN_RETURN_IF_ERROR(repos.links.upsert(l));
        return Status::ok();
    };
    auto after = [&](std::int64_t seq) {
        for (const auto& t : a.turns) {
            ctx_.index->index_turn(t, retrieval::LexicalIndex::analyze_text(t.content), /*known_new=*/true, seq);
        }
        for (std::size_t i = 0; i < a.sessions.size(); ++i) {
            ctx_.index->index_session(a.sessions[i], std::move(session_analyses[i]), /*replace=*/true,
                                      /*known_new=*/true, seq);
        }
        for (const auto& n : a.notes) ctx_.index->index_note(n, /*known_new=*/true, seq);
    };
    KASTEN_RETURN_IF_ERROR(
        ctx_.writer->commit(event_of(a.cube.id, actor, "cube.import", "cube", a.cube.id), write, after).status());
    sum.cube_id = a.cube.id;
    sum.sessions = static_cast<std::int64_t>(a.sessions.size());
    sum.turns = static_cast<std::int64_t>(a.turns.size());
    sum.notes = static_cast<std::int64_t>(a.notes.size());
    sum.note_versions = static_cast<std::int64_t>(a.note_versions.size());
    sum.links = static_cast<std::int64_t>(a.links.size());
    return sum;
}

}  // namespace kasten::memory
