#include "memory/reindexer.h"

#include "memory/note_text.h"
#include "memory/session_key.h"

namespace kasten::memory {

Result<ReindexSummary> Reindexer::reindex(const std::string& cube_id, const ProgressFn& progress) {
    std::vector<store::CubeRecord> targets;
    std::int64_t total = 0;
    {
        auto r = ctx_.readers->lease();
        if (cube_id.empty()) {
            KASTEN_ASSIGN_OR_RETURN(targets, r->cubes.list());
        } else {
            KASTEN_ASSIGN_OR_RETURN(auto c, named(r->cubes.get(cube_id), cube_label(cube_id)));
            targets.push_back(std::move(c));
        }
        for (const auto& c : targets) {
            KASTEN_ASSIGN_OR_RETURN(auto stats, r->cubes.stats(c.id));
            total += stats.turns + stats.sessions + stats.notes;
        }
    }
    ReindexSummary sum;
    std::int64_t done = 0;
    const std::string& active = ctx_.embedder_id;
    for (const auto& c : targets) {
        // 1. What another embedder (or none) embedded, read and re-embedded outside every lock.
        std::vector<store::TurnRecord> stale_turns;
        std::vector<std::pair<store::SessionRecord, store::SessionKeyState>> stale_sessions;
        std::vector<store::NoteRecord> stale_notes;
        {
            auto r = ctx_.readers->lease();
            KASTEN_RETURN_IF_ERROR(r->turns.for_each(c.id, [&](const store::TurnRecord& t) -> Status {
                if (t.embedding.empty() || t.embedder_id != active) stale_turns.push_back(t);
                return Status::ok();
            }));
            KASTEN_ASSIGN_OR_RETURN(auto ss, r->sessions.list(c.id, -1, 0));
            for (auto& s : ss) {
                KASTEN_ASSIGN_OR_RETURN(auto key, r->sessions.key_state(c.id, s.id));
                if (!s.embedding.empty() && s.embedder_id == active && key.known()) continue;
                KASTEN_ASSIGN_OR_RETURN(auto ts, r->turns.list_by_session(c.id, s.id));
                stale_sessions.emplace_back(std::move(s), SessionKey::build(*ctx_.embedder, ts));
            }
            KASTEN_RETURN_IF_ERROR(r->notes.for_each(c.id, [&](const store::NoteRecord& n) -> Status {
                if (n.embedding.empty() || n.embedder_id != active) stale_notes.push_back(n);
                return Status::ok();
            }));
        }
        for (auto& t : stale_turns) t.embedding = ctx_.embedder->embed(t.content);
        for (auto& [s, key] : stale_sessions) s.embedding = SessionKey::embedding(*ctx_.embedder, key);
        for (auto& n : stale_notes) n.embedding = ctx_.embedder->embed(note_index_text(n));

        // 2. Stored in one commit.
        auto write = [&](Repositories& repos, store::EventRecord&) -> Status {
            for (const auto& t : stale_turns) {
                Status st = repos.turns.set_embedding(c.id, t.id, t.embedding, active);
                if (!st.is_ok() && st.code() != StatusCode::kNotFound) return st;
            }
            for (const auto& [s, key] : stale_sessions) {
                Status st = repos.sessions.update_key(c.id, s.id, s.embedding, key);
                if (!st.is_ok() && st.code() != StatusCode::kNotFound) return st;
            }
            for (const auto& n : stale_notes) {
                Status st = repos.notes.set_embedding(c.id, n.id, n.embedding, active);
                if (!st.is_ok() && st.code() != StatusCode::kNotFound) return st;
            }
            return repos.cubes.set_embedder(c.id, active);
        };
        KASTEN_ASSIGN_OR_RETURN(
            std::int64_t seq, ctx_.writer->commit(event_of(c.id, "maintenance", "cube.reindex", "cube", c.id), write));
        sum.reembedded += static_cast<std::int64_t>(stale_turns.size() + stale_sessions.size() + stale_notes.size());

        // 3. Indexes rebuilt from the store, with no write in between.
        store::CubeRecord updated = c;
        updated.embedder_id = active;
        std::int64_t units = 0;
        KASTEN_RETURN_IF_ERROR(ctx_.writer->locked(
            [&](Repositories& repos) { return ctx_.index->rebuild_cube(repos, updated, seq, &units); }));
        sum.units += units;
        ++sum.cubes;
        for (std::int64_t i = 0; i < units; ++i) {
            ++done;
            if (progress && (done % 1000 == 0 || done == total)) progress(done, total);
        }
    }
    KASTEN_RETURN_IF_ERROR(ctx_.index->commit());
    return sum;
}

}  // namespace kasten::memory
