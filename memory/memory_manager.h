#pragma once

#include <functional>
#include <iosfwd>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "memory/context_builder.h"
#include "memory/memory_types.h"

namespace kasten::memory {

// The only entry point api/ and eval/ use for memory work. Owns the store (SQLite, the source of truth) and the derived
// indexes (Xapian lexical, Eigen vectors). Thread-safe: every method may be called concurrently; writes are serialized.
// Every mutation is one SQLite transaction; indexes are updated after the commit and repaired from the store on open.
// Errors: kNotFound (cube/session/turn/note absent), kInvalidArgument (bad input, with the field named),
// kAlreadyExists (duplicate cube id or import clash), kFailedPrecondition (cube embedded with another embedder:
// run `kasten reindex`), kBusy (data dir locked by another process), kInsufficientStorage (the store could not be
// written: disk full or I/O error; nothing was stored, retry), kIOError/kCorruption/kInternal.
class MemoryManager {
  public:
    static Result<std::unique_ptr<MemoryManager>> open(MemoryOptions options);
    ~MemoryManager();
    MemoryManager(const MemoryManager&) = delete;
    MemoryManager& operator=(const MemoryManager&) = delete;

    // Cubes. Ids match [A-Za-z0-9._:-]{1,128}.
    Result<store::CubeRecord> create_cube(const std::string& id, const std::string& name, const std::string& actor);
    Result<CubeInfo> get_cube(const std::string& id);
    Result<std::vector<store::CubeRecord>> list_cubes();
    // Deletes the cube and everything in it: SQLite rows, lexical documents, vectors.
    Status delete_cube(const std::string& id, const std::string& actor);

    // Conversation turns: stored in one transaction, indexed at turn and session granularity. Creates the cube when
    // create_cube_if_missing is true; otherwise kNotFound for an unknown cube.
    Result<AddMessagesResult> add_messages(const AddMessagesRequest& request, bool create_cube_if_missing = true);
    Result<std::vector<store::SessionRecord>> list_sessions(const std::string& cube_id, int limit, int offset);
    Result<SessionView> get_session(const std::string& cube_id, const std::string& external_session_id);
    Status delete_session(const std::string& cube_id, const std::string& external_session_id, const std::string& actor);
    Result<store::TurnRecord> get_turn(const std::string& cube_id, const std::string& turn_id);
    Result<std::vector<store::TurnRecord>> list_turns(const std::string& cube_id, int limit, int offset);
    // Deletes one turn; its session document is rebuilt.
    Status delete_turn(const std::string& cube_id, const std::string& turn_id, const std::string& actor);

    // Notes (memories). Every change writes a version; history lists them all, oldest first.
    Result<store::NoteRecord> add_note(const std::string& cube_id, const NoteInput& input, const std::string& actor);
    Result<store::NoteRecord> get_note(const std::string& cube_id, const std::string& note_id);
    // The cube of a note, found by its id alone (note ids are globally unique); kNotFound when absent.
    Result<std::string> note_cube(const std::string& note_id);
    Result<std::vector<store::NoteRecord>> list_notes(const std::string& cube_id,
                                                      std::optional<store::NoteStatus> status, int limit, int offset);
    Result<store::NoteRecord> patch_note(const std::string& cube_id, const std::string& note_id,
                                         const NotePatch& patch);
    // Hard delete: the note, its versions and links, its index entries. The audit log keeps an event without content.
    Status delete_note(const std::string& cube_id, const std::string& note_id, const std::string& actor);
    Result<std::vector<store::NoteVersionRecord>> note_history(const std::string& cube_id, const std::string& note_id);
    Result<std::vector<store::LinkRecord>> note_links(const std::string& cube_id, const std::string& note_id);

    // Activation memory (docs/kv-cache.md): saved KV cache prefixes of a cube, keyed by (model id, text hash); the
    // data is opaque here. get: kNotFound when absent. put: stores the segment and, in the same transaction, deletes
    // the cube's other segments of that model (their text changed); returns how many it deleted; kNotFound when the
    // cube does not exist. list: metadata only (data empty). Segments are a cache: no audit event is written.
    Result<store::KvSegmentRecord> get_kv_segment(const std::string& cube_id, const std::string& model_id,
                                                  const std::string& text_hash);
    Result<int> put_kv_segment(const store::KvSegmentRecord& segment);
    Result<std::vector<store::KvSegmentRecord>> list_kv_segments(const std::string& cube_id);

    Result<std::vector<SearchHit>> search(const SearchRequest& request);
    // The context a model should be given for a query under a token budget (memory/context_builder.h).
    Result<PackedContext> build_context(const ContextRequest& request);

    // Jobs (note building). kNotFound when absent.
    Result<store::JobRecord> get_job(const std::string& job_id);
    // Newest first.
    Result<std::vector<store::JobRecord>> list_jobs(const std::string& cube_id, int limit, int offset);
    // Runs queued jobs in the calling thread until none is left (or `max_jobs` ran, when >= 0); returns how many
    // ran. For background_jobs = false; with a background thread it still works (jobs are claimed atomically).
    Result<int> run_jobs(int max_jobs = -1);
    // Background mode: blocks until no job is queued or running, or `timeout_ms` passed (kResourceExhausted then).
    Status wait_for_jobs(std::int64_t timeout_ms);

    // Export writes one JSON object per line: a header line, then cube, sessions, turns, notes, note versions,
    // links (see docs/export-format.md). Import reads the same; target_cube_id renames the cube; `ids` keeps the
    // archive's other ids (a restore) or gives every record a fresh one. Importing into an existing cube, or
    // (kKeep) reusing existing entity ids → kAlreadyExists; a bad line → kInvalidArgument naming the line number;
    // references to records the archive does not hold are dropped; nothing is stored unless the whole file is valid.
    Status export_cube(const std::string& cube_id, std::ostream& out);
    Result<ImportSummary> import_cube(std::istream& in, const std::optional<std::string>& target_cube_id,
                                      const std::string& actor, ImportIds ids = ImportIds::kKeep);

    // Rebuilds the lexical and vector indexes from the store (all cubes when cube_id is empty), re-embedding
    // with the active embedder where a cube's vectors come from another one.
    Result<ReindexSummary> reindex(const std::string& cube_id, const ProgressFn& progress = {});
    // Every unit id of the store against the lexical and the vector index, per cube and type (what each lacks or
    // has extra). `kasten reindex` repairs what it finds.
    Result<ConsistencyReport> check_consistency();
    // Repairs the lexical index now if a write to it failed (kInsufficientStorage while the disk is still full),
    // then commits it to disk.
    Status flush();
    // Whether a lexical index write failed and its repair is pending (/healthz).
    IndexHealth index_health() const;

    std::string embedder_id() const;
    // The active embedder (MemoryOptions::embedder); never null.
    std::shared_ptr<const llm::Embedder> embedder() const;
    ManagerStats stats() const;

  private:
    struct Impl;
    explicit MemoryManager(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

}  // namespace kasten::memory
