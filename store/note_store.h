#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/result.h"
#include "common/status.h"
#include "store/records.h"

namespace kasten::store {

class Database;

// The notes and note_versions tables. note_versions holds every state a note has had, version 1..n, the last one
// equal to the current row; each with the reason, actor and time of the change that produced it.
//
// Single-statement methods open no transaction. insert() and update() write two tables and are atomic by themselves
// (a SAVEPOINT inside the caller's Transaction, or their own transaction when there is none).
// Not thread-safe (see Database).
class NoteStore {
  public:
    explicit NoteStore(Database& db) : db_(db) {}

    // Stores `note` as given and records its state as version `note.version` (1 for a new note) with reason
    // "create", actor `actor`, time note.recorded_at. kInvalidArgument when note.version < 1; kNotFound when the
    // cube does not exist; kAlreadyExists when the id is taken.
    Status insert(const NoteRecord& note, const std::string& actor = "");
    // kNotFound when absent from this cube.
    Result<NoteRecord> get(const std::string& cube_id, const std::string& id);
    // The cube holding the note with this (globally unique) id; kNotFound when no cube has it.
    Result<std::string> cube_of(const std::string& id);
    // The notes of `ids` that exist in this cube, in the order of `ids`.
    Result<std::vector<NoteRecord>> get_many(const std::string& cube_id, const std::vector<std::string>& ids);
    // Replaces the note (next.cube_id, next.id) with `next`, except: version becomes the stored version + 1
    // (next.version is ignored) and updated_at becomes `at`. Appends that new state to note_versions with `reason`,
    // `actor`, `at`. kNotFound when absent.
    Status update(const NoteRecord& next, const std::string& reason, const std::string& actor, TimeMs at);
    // Hard delete; its versions and links cascade. kNotFound when absent.
    Status remove(const std::string& cube_id, const std::string& id);
    // Ordered by (recorded_at, id); only notes of `status` when given. limit < 0 means no limit; offset < 0 counts
    // as 0.
    Result<std::vector<NoteRecord>> list(const std::string& cube_id, std::optional<NoteStatus> status,
                                         std::int64_t limit, std::int64_t offset);
    // Every recorded state, ascending by version. kNotFound when the note does not exist.
    Result<std::vector<NoteVersionRecord>> versions(const std::string& cube_id, const std::string& id);
    // Whether the cube has an active note with this content hash (the note jobs' duplicate check).
    Result<bool> has_active_hash(const std::string& cube_id, const std::string& content_hash);
    // Streams every note of the cube (any status) by (recorded_at, id); the record passed to `fn` is reused between
    // calls. Stops at, and returns, the first error. `fn` may call other store methods on the same Database.
    Status for_each(const std::string& cube_id, const std::function<Status(const NoteRecord&)>& fn);
    // Derived data: no new version, updated_at unchanged. An empty vector clears the embedding. kNotFound when absent.
    Status set_embedding(const std::string& cube_id, const std::string& id, const std::vector<float>& embedding,
                         const std::string& embedder_id);
    // Records an access (MemoryBank): no new version, updated_at unchanged. kNotFound when absent.
    Status touch(const std::string& cube_id, const std::string& id, TimeMs last_access, double strength);
    Result<std::int64_t> count(const std::string& cube_id);
    // Notes of the cube that are indexed (every status but deleted).
    Result<std::int64_t> count_indexed(const std::string& cube_id);
    // Import: writes `version` exactly as given (replacing a row with the same note id and version, e.g. the one
    // insert() wrote). kNotFound when the note does not exist in `cube_id`.
    Status insert_version(const NoteVersionRecord& version, const std::string& cube_id);

  private:
    Status write_version(const NoteRecord& note, int version, const std::string& reason, const std::string& actor,
                         TimeMs at);

    Database& db_;
};

}  // namespace kasten::store
