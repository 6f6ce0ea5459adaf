#include "memory/index_sync.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <map>

#include <nlohmann/json.hpp>

#include "common/log.h"
#include "memory/note_text.h"
#include "memory/session_key.h"

namespace kasten::memory {

using retrieval::UnitType;

retrieval::UnitAttrs turn_attrs(const store::TurnRecord& t) {
    return retrieval::UnitAttrs{t.cube_id, UnitType::kTurn, t.id, t.conv_time, t.role, t.session_id};
}
retrieval::UnitAttrs session_attrs(const store::SessionRecord& s) {
    return retrieval::UnitAttrs{s.cube_id, UnitType::kSession, s.id, s.started_at, "", s.id};
}
retrieval::UnitAttrs note_attrs(const store::NoteRecord& n) {
    return retrieval::UnitAttrs{n.cube_id, UnitType::kNote, n.id, n.valid_from.value_or(n.recorded_at), "", ""};
}

namespace {

// Writes the dirty marker durably (best effort: on a full disk even this may fail; the committed watermark still
// holds the failed change back, so the next open re-indexes it either way).
void write_marker(const std::string& path, const std::string& text) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    bool ok = fd >= 0;
    if (ok) ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
    if (ok) ok = ::fsync(fd) == 0;
    const int err = errno;
    if (fd >= 0) ::close(fd);
    if (!ok) log::warn("cannot write the lexical index dirty marker {}: {}", path, std::strerror(err));
}

bool storage_failure(const Status& st) {
    return st.code() == StatusCode::kInsufficientStorage || st.code() == StatusCode::kIOError ||
           st.code() == StatusCode::kCorruption;
}

std::int64_t unix_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

}  // namespace

IndexSync::IndexSync(std::unique_ptr<retrieval::LexicalIndex> lexical, std::shared_ptr<const llm::Embedder> embedder,
                     bool background, std::int64_t commit_every, std::string dirty_marker,
                     std::shared_ptr<IndexWriteFaults> faults, std::size_t hit_cache_bytes)
    : lexical_(std::move(lexical)),
      vectors_(embedder->dim()),
      hits_(hit_cache_bytes),
      embedder_(std::move(embedder)),
      embedder_id_(embedder_->id()),
      dirty_marker_(std::move(dirty_marker)),
      faults_(std::move(faults)) {
    writer_ =
        std::make_unique<LexicalWriter>(*lexical_, background, commit_every, kWatermarkKey, faults_,
                                        [this](const Status& error, std::int64_t seq) { mark_dirty(error, seq); });
}

void IndexSync::mark_dirty(const Status& error, std::int64_t seq) {
    bool first = false;
    {
        MutexLock lock(mu_);
        first = !health_.dirty;
        if (first) {
            health_.dirty = true;
            health_.error = error.to_string();
            health_.dirty_since_ms = unix_ms();
            first_failed_seq_ = seq;
        } else if (seq > 0 && (first_failed_seq_ == 0 || seq < first_failed_seq_)) {
            first_failed_seq_ = seq;
        }
        dirty_.store(true);
        // Called under the lock, so the listener cannot be unset and destroyed while it runs.
        if (dirty_listener_) dirty_listener_();
    }
    // No watermark is committed past the failure until repair() has re-indexed the tail (and, while dirty, the
    // background writer does not commit at all, so nothing it does can interleave with a repair).
    writer_->mark_failed();
    // After a failed commit Xapian may have closed the database: reopen it at its last commit, so searches keep
    // working (without the changes the repair will bring back) while the disk is full.
    Status reopened = lexical_->reopen();
    if (!reopened.is_ok()) log::error("reopening the lexical index after a failed write: {}", reopened.to_string());
    if (first) {
        log::error(
            "lexical index is dirty (changes from event {} on may be missing from keyword search until "
            "repaired from the store): {}",
            seq, error.to_string());
        if (!dirty_marker_.empty()) {
            write_marker(dirty_marker_, "first failed event " + std::to_string(seq) + ": " + error.to_string() + "\n");
        }
    }
}

Status IndexSync::check_fault(const char* what) {
    return faults_ ? faults_->check(what) : Status::ok();
}

IndexHealth IndexSync::health() {
    MutexLock lock(mu_);
    return health_;
}

void IndexSync::set_dirty_listener(std::function<void()> listener) {
    MutexLock lock(mu_);
    dirty_listener_ = std::move(listener);
}

Status IndexSync::repair(Repositories& repos) {
    if (!dirty_.load()) return Status::ok();
    writer_->drain();  // nothing is queued meanwhile: the caller holds the store writer's lock
    std::int64_t from = 0;
    {
        MutexLock lock(mu_);
        from = std::max<std::int64_t>(0, first_failed_seq_ - 1);
    }
    Status st = check_fault("lexical index repair");
    if (st.is_ok()) st = lexical_->reopen();
    if (st.is_ok() && writer_->background()) {
        // A commit of one metadata value first: while the disk is still full it fails here, cheaply, before the tail
        // is re-indexed (each try holds the store writer's lock).
        st = lexical_->set_metadata(kRepairProbeKey, std::to_string(unix_ms()));
        if (st.is_ok()) st = lexical_->commit();
    }
    if (st.is_ok() && writer_->background()) {
        // On disk, everything after the last good commit is suspect (Xapian drops uncommitted changes on failure).
        auto wm = lexical_->metadata(kWatermarkKey);
        if (!wm.is_ok()) {
            st = wm.status();
        } else {
            from = std::min<std::int64_t>(from, wm->empty() ? 0 : std::stoll(*wm));
        }
    }
    std::int64_t units = 0;
    std::int64_t max_seq = from;
    if (st.is_ok()) st = replay_events(repos, from, &max_seq, &units);
    const std::int64_t seq = std::max(last_enqueued_seq_.load(), max_seq);
    if (st.is_ok()) st = writer_->commit(seq, /*repaired=*/true);
    if (!st.is_ok()) {
        mark_dirty(st, from + 1);  // reopens the index, which a failed commit may have closed, for searches
        MutexLock lock(mu_);
        ++health_.failed_repairs;
        return st;
    }
    last_enqueued_seq_.store(seq);
    {
        MutexLock lock(mu_);
        health_.dirty = false;
        health_.error.clear();
        health_.dirty_since_ms = 0;
        ++health_.repairs;
        first_failed_seq_ = 0;
        dirty_.store(false);
    }
    if (!dirty_marker_.empty()) {
        std::error_code ec;
        std::filesystem::remove(dirty_marker_, ec);
    }
    log::info("lexical index repaired: re-indexed {} unit(s) of the events after {}", units, from);
    return Status::ok();
}

IndexSync::~IndexSync() {
    writer_.reset();  // applies what is queued
}

void IndexSync::enqueue(LexicalWriter::Task task) {
    last_enqueued_seq_.store(std::max(last_enqueued_seq_.load(), task.seq));
    const std::string id = task.attrs.id;
    Status st = writer_->enqueue(std::move(task));  // a failure marks the index dirty (the writer reports it)
    if (!st.is_ok()) log::error("lexical index change for {}: {}", id, st.to_string());
}

void IndexSync::index_turn(const store::TurnRecord& t, retrieval::LexicalIndex::Analysis analysis, bool known_new,
                           std::int64_t seq) {
    HitCache::Turn hit{t.session_id, t.role, t.content, t.conv_time,
                       std::make_shared<const retrieval::TermBag>(retrieval::TermBag::of(analysis))};
    enqueue({turn_attrs(t), std::move(analysis), known_new, seq, LexicalWriter::Op::kUpsert});
    places_.put(t.cube_id, store::TurnPlace{t.id, t.session_id, t.index});
    hits_.put_turn(t.cube_id, t.id, std::move(hit), /*changed=*/!known_new);
    if (!t.embedding.empty()) {
        Status st = vectors_.upsert(turn_attrs(t), t.embedding);
        if (!st.is_ok()) log::error("indexing the vector of turn {}: {}", t.id, st.to_string());
    }
}

void IndexSync::index_session(const store::SessionRecord& s, retrieval::LexicalIndex::Analysis analysis, bool replace,
                              bool known_new, std::int64_t seq) {
    enqueue({session_attrs(s), std::move(analysis), known_new, seq,
             replace ? LexicalWriter::Op::kUpsert : LexicalWriter::Op::kAddTerms});
    // A session's external id never changes: only a new session needs an entry.
    if (known_new) hits_.put_session(s.cube_id, s.id, s.external_id, /*changed=*/false);
    if (!s.embedding.empty()) {
        Status st = vectors_.upsert(session_attrs(s), s.embedding);
        if (!st.is_ok()) log::error("indexing the vector of session {}: {}", s.id, st.to_string());
    }
}

void IndexSync::index_note(const store::NoteRecord& n, bool known_new, std::int64_t seq) {
    if (n.status == store::NoteStatus::kDeleted) {
        remove_unit(n.cube_id, UnitType::kNote, n.id, seq);
        return;
    }
    std::string text = note_index_text(n);
    retrieval::LexicalIndex::Analysis analysis = retrieval::LexicalIndex::analyze_text(text);
    auto terms = std::make_shared<const retrieval::TermBag>(retrieval::TermBag::of(analysis));
    enqueue({note_attrs(n), std::move(analysis), known_new, seq, LexicalWriter::Op::kUpsert});
    note_sources_.put(n.cube_id, NoteSourceIndex::sources_of(n));
    hits_.put_note(n.cube_id, n.id, std::move(text), /*changed=*/!known_new, std::move(terms));
    if (!n.embedding.empty()) {
        Status st = vectors_.upsert(note_attrs(n), n.embedding);
        if (!st.is_ok()) log::error("indexing the vector of note {}: {}", n.id, st.to_string());
    }
}

void IndexSync::remove_unit(const std::string& cube_id, UnitType type, const std::string& id, std::int64_t seq) {
    retrieval::UnitAttrs a;
    a.cube_id = cube_id;
    a.type = type;
    a.id = id;
    enqueue({a, {}, false, seq, LexicalWriter::Op::kRemove});
    if (type == UnitType::kTurn) places_.remove(cube_id, id);
    if (type == UnitType::kNote) note_sources_.remove(cube_id, id);
    switch (type) {
        case UnitType::kTurn:
            hits_.erase_turn(cube_id, id);
            break;
        case UnitType::kSession:
            hits_.erase_session(cube_id, id);
            break;
        case UnitType::kNote:
            hits_.erase_note(cube_id, id);
            break;
    }
    Status st = vectors_.remove(cube_id, type, id);
    if (!st.is_ok()) log::error("removing the vector of {}: {}", id, st.to_string());
}

void IndexSync::remove_session(const std::string& cube_id, const std::string& session_id,
                               const std::vector<std::string>& turn_ids, std::int64_t seq) {
    retrieval::UnitAttrs a;
    a.cube_id = cube_id;
    a.type = UnitType::kSession;
    a.id = session_id;
    a.session_id = session_id;
    enqueue({a, {}, false, seq, LexicalWriter::Op::kRemoveSession});
    for (const auto& id : turn_ids) places_.remove(cube_id, id);
    hits_.erase_session(cube_id, session_id);
    for (const auto& id : turn_ids) hits_.erase_turn(cube_id, id);
    Status st = vectors_.remove(cube_id, UnitType::kSession, session_id);
    for (const auto& id : turn_ids) {
        if (st.is_ok()) st = vectors_.remove(cube_id, UnitType::kTurn, id);
    }
    if (!st.is_ok()) log::error("removing the vectors of session {}: {}", session_id, st.to_string());
}

void IndexSync::remove_cube(const std::string& cube_id, std::int64_t seq) {
    retrieval::UnitAttrs a;
    a.cube_id = cube_id;
    a.id = cube_id;
    enqueue({a, {}, false, seq, LexicalWriter::Op::kRemoveCube});
    {
        MutexLock lock(mu_);
        foreign_cubes_.erase(cube_id);
    }
    places_.remove_cube(cube_id);
    note_sources_.remove_cube(cube_id);
    hits_.erase_cube(cube_id);
    Status st = vectors_.remove_cube(cube_id);
    if (!st.is_ok()) log::error("removing the vectors of cube {}: {}", cube_id, st.to_string());
}

void IndexSync::read_barrier() {
    writer_->drain();
}

void IndexSync::read_barrier(const std::string& cube_id) {
    writer_->drain_cube(cube_id);
}

Status IndexSync::commit() {
    writer_->drain();
    // After a failed change the watermark stays where it was (the writer sees to it): the next open or repair
    // re-indexes from there.
    return writer_->commit(last_enqueued_seq_.load());
}

bool IndexSync::is_foreign(const std::string& cube_id) {
    MutexLock lock(mu_);
    return foreign_cubes_.count(cube_id) > 0;
}

Status IndexSync::check_cube_embedder(const store::CubeRecord& cube) const {
    if (!cube.embedder_id.empty() && cube.embedder_id != embedder_id_) {
        return Status::failed_precondition("cube '" + cube.id + "' holds vectors from embedder '" + cube.embedder_id +
                                           "' but the active embedder is '" + embedder_id_ +
                                           "'; run `kasten reindex --cube " + cube.id + "` to re-embed it");
    }
    return Status::ok();
}

Status IndexSync::load_vectors(Repositories& repos, const store::CubeRecord& cube) {
    KASTEN_RETURN_IF_ERROR(vectors_.remove_cube(cube.id));
    hits_.erase_cube(cube.id);  // re-read on demand: a reindex may have rewritten the cube
    KASTEN_ASSIGN_OR_RETURN(auto places, repos.turns.all_places(cube.id));
    places_.reset_cube(cube.id, places);
    const bool foreign = !cube.embedder_id.empty() && cube.embedder_id != embedder_id_;
    {
        MutexLock lock(mu_);
        if (foreign) {
            foreign_cubes_.insert(cube.id);
        } else {
            foreign_cubes_.erase(cube.id);
        }
    }
    if (foreign) {
        log::warn(
            "cube '{}' was embedded with '{}', active embedder is '{}': vector search disabled for it "
            "until `kasten reindex --cube {}`",
            cube.id, cube.embedder_id, embedder_id_, cube.id);
    } else {
        KASTEN_RETURN_IF_ERROR(repos.turns.for_each(cube.id, [&](const store::TurnRecord& t) -> Status {
            if (t.embedding.empty() || t.embedder_id != embedder_id_) return Status::ok();
            return vectors_.upsert(turn_attrs(t), t.embedding);
        }));
        KASTEN_ASSIGN_OR_RETURN(auto ss, repos.sessions.list(cube.id, -1, 0));
        for (const auto& s : ss) {
            if (s.embedding.empty() || s.embedder_id != embedder_id_) continue;
            KASTEN_RETURN_IF_ERROR(vectors_.upsert(session_attrs(s), s.embedding));
        }
    }
    // Every note's sources (whatever its embedding), and the vectors of the cube's embedder.
    std::vector<store::NoteSourcesRecord> notes;
    KASTEN_RETURN_IF_ERROR(repos.notes.for_each(cube.id, [&](const store::NoteRecord& n) -> Status {
        if (n.status == store::NoteStatus::kDeleted) return Status::ok();
        notes.push_back(NoteSourceIndex::sources_of(n));
        if (foreign || n.embedding.empty() || n.embedder_id != embedder_id_) return Status::ok();
        return vectors_.upsert(note_attrs(n), n.embedding);
    }));
    note_sources_.reset_cube(cube.id, std::move(notes));
    return Status::ok();
}

Status IndexSync::rebuild_lexical(Repositories& repos, const std::string& cube_id, std::int64_t* units) {
    KASTEN_RETURN_IF_ERROR(lexical_->remove_cube(cube_id));
    std::int64_t n = 0;
    KASTEN_RETURN_IF_ERROR(repos.turns.for_each(cube_id, [&](const store::TurnRecord& t) -> Status {
        ++n;
        return lexical_->upsert(turn_attrs(t), t.content, /*known_new=*/true);
    }));
    KASTEN_ASSIGN_OR_RETURN(auto ss, repos.sessions.list(cube_id, -1, 0));
    for (const auto& s : ss) {
        KASTEN_ASSIGN_OR_RETURN(auto ts, repos.turns.list_by_session(cube_id, s.id));
        KASTEN_RETURN_IF_ERROR(
            lexical_->upsert_analyzed(session_attrs(s), SessionKey::analysis(ts), false, /*known_new=*/true));
        ++n;
    }
    KASTEN_RETURN_IF_ERROR(repos.notes.for_each(cube_id, [&](const store::NoteRecord& note) -> Status {
        if (note.status == store::NoteStatus::kDeleted) return Status::ok();
        ++n;
        return lexical_->upsert(note_attrs(note), note_index_text(note), /*known_new=*/true);
    }));
    if (units) *units += n;
    return Status::ok();
}

Status IndexSync::rebuild_cube(Repositories& repos, const store::CubeRecord& cube, std::int64_t seq,
                               std::int64_t* units) {
    writer_->drain();  // queued changes land before the rebuild replaces them
    Status st = check_fault("lexical index rebuild");
    if (st.is_ok()) st = rebuild_lexical(repos, cube.id, units);
    if (!st.is_ok()) {
        if (storage_failure(st)) mark_dirty(st, seq);
        return st;
    }
    last_enqueued_seq_.store(std::max(last_enqueued_seq_.load(), seq));
    return load_vectors(repos, cube);
}

Status IndexSync::reindex_session(Repositories& repos, const std::string& cube_id, const std::string& session_id,
                                  std::int64_t* units) {
    auto s = repos.sessions.get(cube_id, session_id);
    if (!s) {
        if (s.status().code() != StatusCode::kNotFound) return s.status();
        KASTEN_RETURN_IF_ERROR(lexical_->remove_session(cube_id, session_id));
        ++*units;
        return Status::ok();
    }
    KASTEN_ASSIGN_OR_RETURN(auto ts, repos.turns.list_by_session(cube_id, session_id));
    KASTEN_RETURN_IF_ERROR(lexical_->upsert_analyzed(session_attrs(*s), SessionKey::analysis(ts)));
    ++*units;
    return Status::ok();
}

Status IndexSync::reindex_note(Repositories& repos, const std::string& cube_id, const std::string& note_id,
                               std::int64_t* units) {
    ++*units;
    auto n = repos.notes.get(cube_id, note_id);
    if (!n) {
        if (n.status().code() != StatusCode::kNotFound) return n.status();
        return lexical_->remove(cube_id, UnitType::kNote, note_id);
    }
    if (n->status == store::NoteStatus::kDeleted) return lexical_->remove(cube_id, UnitType::kNote, note_id);
    return lexical_->upsert(note_attrs(*n), note_index_text(*n));
}

namespace {

std::vector<std::string> string_list(const nlohmann::json& detail, const char* key, bool* ok) {
    std::vector<std::string> out;
    if (!detail.is_object() || !detail.contains(key) || !detail[key].is_array()) {
        *ok = false;
        return out;
    }
    for (const auto& v : detail[key]) {
        if (v.is_string()) out.push_back(v.get<std::string>());
    }
    return out;
}

std::string string_field(const nlohmann::json& detail, const char* key, bool* ok) {
    if (!detail.is_object() || !detail.contains(key) || !detail[key].is_string()) {
        *ok = false;
        return {};
    }
    return detail[key].get<std::string>();
}

}  // namespace

Status IndexSync::replay_events(Repositories& repos, std::int64_t watermark, std::int64_t* max_seq_out,
                                std::int64_t* units_out) {
    KASTEN_ASSIGN_OR_RETURN(auto all, repos.cubes.list());
    std::set<std::string> existing;
    for (const auto& c : all) existing.insert(c.id);

    // 1. What the events after the watermark touched, unit by unit. An event that does not name its units (older
    //    builds, import, reindex) re-indexes its whole cube.
    std::set<std::string> whole_cubes, gone_cubes;
    std::map<std::string, std::set<std::string>> turns, removed_turns, sessions, removed_sessions, notes;
    std::int64_t max_seq = watermark;
    for (std::int64_t after = watermark;;) {
        KASTEN_ASSIGN_OR_RETURN(auto evs, repos.events.list_all(after, 5000));
        if (evs.empty()) break;
        for (const auto& e : evs) {
            max_seq = std::max(max_seq, e.seq);
            const std::string& cube = e.cube_id;
            if (!existing.count(cube)) {
                gone_cubes.insert(cube);
                continue;
            }
            const nlohmann::json detail = nlohmann::json::parse(e.detail_json, nullptr, false);
            bool ok = true;
            if (e.action == "cube.create") {
            } else if (e.action == "turns.add") {
                auto ids = string_list(detail, "turn_ids", &ok);
                auto session = string_field(detail, "session", &ok);
                if (ok) {
                    turns[cube].insert(ids.begin(), ids.end());
                    sessions[cube].insert(session);
                }
            } else if (e.action == "turn.delete") {
                auto session = string_field(detail, "session", &ok);
                if (ok) {
                    removed_turns[cube].insert(e.target_id);
                    sessions[cube].insert(session);
                }
            } else if (e.action == "session.delete") {
                auto session = string_field(detail, "session", &ok);
                if (ok) removed_sessions[cube].insert(session);
            } else if (e.action == "note.add" || e.action == "note.patch" || e.action == "note.delete") {
                notes[cube].insert(e.target_id);
            } else if (e.action == "notes.build") {
                auto ids = string_list(detail, "note_ids", &ok);
                if (ok) notes[cube].insert(ids.begin(), ids.end());
            } else {
                ok = false;
            }
            if (!ok) whole_cubes.insert(cube);
        }
        after = evs.back().seq;
    }

    // 2. Re-index exactly those units (whole cubes where an event did not say).
    std::int64_t units = 0;
    for (const auto& cube : gone_cubes) KASTEN_RETURN_IF_ERROR(lexical_->remove_cube(cube));
    for (const auto& cube : whole_cubes) KASTEN_RETURN_IF_ERROR(rebuild_lexical(repos, cube, &units));
    auto skip = [&](const std::string& cube) { return whole_cubes.count(cube) > 0; };
    for (const auto& [cube, ids] : removed_sessions) {
        if (skip(cube)) continue;
        for (const auto& id : ids) {
            KASTEN_RETURN_IF_ERROR(lexical_->remove_session(cube, id));
            ++units;
        }
    }
    for (const auto& [cube, ids] : removed_turns) {
        if (skip(cube)) continue;
        for (const auto& id : ids) {
            KASTEN_RETURN_IF_ERROR(lexical_->remove(cube, UnitType::kTurn, id));
            ++units;
        }
    }
    for (const auto& [cube, ids] : turns) {
        if (skip(cube)) continue;
        std::vector<std::string> list(ids.begin(), ids.end());
        KASTEN_ASSIGN_OR_RETURN(auto found, repos.turns.get_many(cube, list));
        for (const auto& t : found) {
            if (removed_sessions[cube].count(t.session_id)) continue;
            KASTEN_RETURN_IF_ERROR(lexical_->upsert(turn_attrs(t), t.content));
            ++units;
        }
    }
    for (const auto& [cube, ids] : sessions) {
        if (skip(cube)) continue;
        for (const auto& id : ids) {
            if (removed_sessions[cube].count(id)) continue;
            KASTEN_RETURN_IF_ERROR(reindex_session(repos, cube, id, &units));
        }
    }
    for (const auto& [cube, ids] : notes) {
        if (skip(cube)) continue;
        for (const auto& id : ids) KASTEN_RETURN_IF_ERROR(reindex_note(repos, cube, id, &units));
    }
    *max_seq_out = max_seq;
    *units_out += units;
    if (units > 0 || !gone_cubes.empty()) log::info("re-indexed {} unit(s) of the events after {}", units, watermark);
    return Status::ok();
}

Status IndexSync::recover(Repositories& repos, bool verify) {
    KASTEN_ASSIGN_OR_RETURN(auto all, repos.cubes.list());
    std::error_code ec;
    const bool marked_dirty = !dirty_marker_.empty() && std::filesystem::exists(dirty_marker_, ec);
    if (marked_dirty) log::warn("a lexical index write failed before the last shutdown: checking every unit id");

    // 1-2. The units of the events after the watermark.
    std::int64_t watermark = 0;
    auto wm = lexical_->metadata(kWatermarkKey);
    if (wm.is_ok() && !wm->empty()) watermark = std::stoll(*wm);
    std::int64_t units = 0;
    std::int64_t max_seq = watermark;
    Status lexical_st = replay_events(repos, watermark, &max_seq, &units);
    last_enqueued_seq_.store(max_seq);

    // 3. Vectors live in memory: load them from the store.
    for (const auto& c : all) KASTEN_RETURN_IF_ERROR(load_vectors(repos, c));

    // 4. A lost or foreign index directory shows as disagreeing totals (cheap); after a failed write (the marker)
    //    every unit id is compared. Either way what disagrees is re-indexed unit by unit.
    if (verify && lexical_st.is_ok()) {
        bool compare = marked_dirty;
        if (!compare) {
            std::int64_t stored = 0;
            for (const auto& c : all) {
                KASTEN_ASSIGN_OR_RETURN(auto st, repos.cubes.stats(c.id));
                stored += st.turns + st.sessions;
                KASTEN_ASSIGN_OR_RETURN(std::int64_t nn, repos.notes.count_indexed(c.id));
                stored += nn;
            }
            KASTEN_ASSIGN_OR_RETURN(std::uint64_t indexed, lexical_->total_documents());
            compare = static_cast<std::int64_t>(indexed) != stored;
        }
        for (const auto& c : all) {
            if (!compare || !lexical_st.is_ok()) break;
            lexical_st = compare_cube(repos, c, /*repair=*/true, nullptr, &units);
        }
    }
    recovered_units_ = units;
    if (lexical_st.is_ok()) lexical_st = commit();
    if (!lexical_st.is_ok()) {
        // A full disk must not keep the store from opening: searches run on the index as it is, the repair thread
        // retries, and the marker makes the next open check every unit.
        if (!storage_failure(lexical_st)) return lexical_st;
        mark_dirty(lexical_st, watermark + 1);
        return Status::ok();
    }
    if (marked_dirty) std::filesystem::remove(dirty_marker_, ec);
    return Status::ok();
}

Status IndexSync::load_without_recovery(Repositories& repos) {
    auto wm = lexical_->metadata(kWatermarkKey);
    // The watermark is kept, so the next verifying open still repairs what is stale.
    if (wm.is_ok() && !wm->empty()) last_enqueued_seq_.store(std::stoll(*wm));
    KASTEN_ASSIGN_OR_RETURN(auto all, repos.cubes.list());
    for (const auto& c : all) KASTEN_RETURN_IF_ERROR(load_vectors(repos, c));
    return Status::ok();
}

namespace {

// Sorted `a` minus sorted `b`.
std::vector<std::string> difference(const std::vector<std::string>& a, const std::vector<std::string>& b) {
    std::vector<std::string> out;
    std::set_difference(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(out));
    return out;
}

}  // namespace

Status IndexSync::compare_cube(Repositories& repos, const store::CubeRecord& cube, bool repair,
                               ConsistencyReport* report, std::int64_t* units) {
    // What the store holds: every unit in the lexical index; those embedded by the active embedder in the vectors.
    std::map<std::string, store::TurnRecord> turns;
    KASTEN_RETURN_IF_ERROR(repos.turns.for_each(cube.id, [&](const store::TurnRecord& t) -> Status {
        turns.emplace(t.id, t);
        return Status::ok();
    }));
    std::map<std::string, store::SessionRecord> sessions;
    KASTEN_ASSIGN_OR_RETURN(auto ss, repos.sessions.list(cube.id, -1, 0));
    for (auto& s : ss) sessions.emplace(s.id, std::move(s));
    std::map<std::string, store::NoteRecord> notes;
    KASTEN_RETURN_IF_ERROR(repos.notes.for_each(cube.id, [&](const store::NoteRecord& n) -> Status {
        if (n.status != store::NoteStatus::kDeleted) notes.emplace(n.id, n);
        return Status::ok();
    }));
    const bool vectors_expected = cube.embedder_id == embedder_id_ || cube.embedder_id.empty();
    auto ids_of = [&](const auto& units_by_id, std::vector<std::string>* all, std::vector<std::string>* embedded) {
        for (const auto& [id, u] : units_by_id) {
            all->push_back(id);
            if (!u.embedding.empty() && u.embedder_id == embedder_id_) embedded->push_back(id);
        }
    };

    for (UnitType type : {UnitType::kTurn, UnitType::kSession, UnitType::kNote}) {
        std::vector<std::string> stored, embedded;
        if (type == UnitType::kTurn) ids_of(turns, &stored, &embedded);
        if (type == UnitType::kSession) ids_of(sessions, &stored, &embedded);
        if (type == UnitType::kNote) ids_of(notes, &stored, &embedded);
        KASTEN_ASSIGN_OR_RETURN(auto lexical, lexical_->ids(cube.id, type));
        std::vector<std::string> vector = vectors_.ids(cube.id, type);
        std::sort(vector.begin(), vector.end());

        ConsistencyReport::Entry e;
        e.cube_id = cube.id;
        e.unit_type = retrieval::unit_type_name(type);
        e.store_count = static_cast<std::int64_t>(stored.size());
        e.lexical_count = static_cast<std::int64_t>(lexical.size());
        e.vector_count = static_cast<std::int64_t>(vector.size());
        e.missing_lexical = difference(stored, lexical);
        e.extra_lexical = difference(lexical, stored);
        if (vectors_expected) {
            e.missing_vector = difference(embedded, vector);
            e.extra_vector = difference(vector, embedded);
        }
        const bool agree =
            e.missing_lexical.empty() && e.extra_lexical.empty() && e.missing_vector.empty() && e.extra_vector.empty();
        if (agree) continue;
        if (repair) {
            log::warn(
                "cube '{}' {}s: {} missing and {} extra in the lexical index, {} missing and {} extra in the "
                "vector index: repairing from the store",
                cube.id, e.unit_type, e.missing_lexical.size(), e.extra_lexical.size(), e.missing_vector.size(),
                e.extra_vector.size());
            for (const auto& id : e.extra_lexical) KASTEN_RETURN_IF_ERROR(lexical_->remove(cube.id, type, id));
            for (const auto& id : e.extra_vector) KASTEN_RETURN_IF_ERROR(vectors_.remove(cube.id, type, id));
            for (const auto& id : e.missing_lexical) {
                if (type == UnitType::kTurn) {
                    const auto& t = turns.at(id);
                    KASTEN_RETURN_IF_ERROR(lexical_->upsert(turn_attrs(t), t.content));
                } else if (type == UnitType::kSession) {
                    std::int64_t ignored = 0;
                    KASTEN_RETURN_IF_ERROR(reindex_session(repos, cube.id, id, &ignored));
                } else {
                    const auto& n = notes.at(id);
                    KASTEN_RETURN_IF_ERROR(lexical_->upsert(note_attrs(n), note_index_text(n)));
                }
            }
            for (const auto& id : e.missing_vector) {
                if (type == UnitType::kTurn) {
                    KASTEN_RETURN_IF_ERROR(vectors_.upsert(turn_attrs(turns.at(id)), turns.at(id).embedding));
                } else if (type == UnitType::kSession) {
                    KASTEN_RETURN_IF_ERROR(vectors_.upsert(session_attrs(sessions.at(id)), sessions.at(id).embedding));
                } else {
                    KASTEN_RETURN_IF_ERROR(vectors_.upsert(note_attrs(notes.at(id)), notes.at(id).embedding));
                }
            }
            if (units) {
                *units += static_cast<std::int64_t>(e.missing_lexical.size() + e.extra_lexical.size() +
                                                    e.missing_vector.size() + e.extra_vector.size());
            }
        }
        if (report) report->mismatches.push_back(std::move(e));
    }
    return Status::ok();
}

Result<ConsistencyReport> IndexSync::consistency(Repositories& repos) {
    ConsistencyReport report;
    KASTEN_ASSIGN_OR_RETURN(auto all, repos.cubes.list());
    for (const auto& c : all) KASTEN_RETURN_IF_ERROR(compare_cube(repos, c, /*repair=*/false, &report, nullptr));
    return report;
}

}  // namespace kasten::memory
