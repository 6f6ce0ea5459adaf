#include "store/schema.h"

#include <fmt/format.h>

#include "common/log.h"
#include "store/database.h"

namespace kasten::store {

namespace {

struct Migration {
    int version;      // user_version after this step
    const char* sql;  // ';'-separated DDL
};

// Every table carries cube_id and (except the audit log and the store-wide meta table) cascades from cubes.
// Times are INTEGER ms since the epoch (UTC); embeddings are float32 little-endian BLOBs (NULL = not embedded);
// string lists are JSON arrays of strings in TEXT.
constexpr const char* kSchemaV1 = R"sql(
CREATE TABLE cubes (
    id            TEXT PRIMARY KEY NOT NULL,
    name          TEXT NOT NULL DEFAULT '',
    embedder_id   TEXT NOT NULL DEFAULT '',
    created_at    INTEGER NOT NULL,
    metadata_json TEXT NOT NULL DEFAULT '{}'
);

CREATE TABLE sessions (
    id          TEXT PRIMARY KEY NOT NULL,
    cube_id     TEXT NOT NULL REFERENCES cubes(id) ON DELETE CASCADE,
    external_id TEXT NOT NULL,
    started_at  INTEGER NOT NULL,
    summary     TEXT NOT NULL DEFAULT '',
    embedding   BLOB,
    embedder_id TEXT NOT NULL DEFAULT '',
    UNIQUE (cube_id, external_id)
);
CREATE INDEX sessions_by_start ON sessions (cube_id, started_at, id);

CREATE TABLE turns (
    id          TEXT PRIMARY KEY NOT NULL,
    cube_id     TEXT NOT NULL REFERENCES cubes(id) ON DELETE CASCADE,
    session_id  TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    idx         INTEGER NOT NULL,
    role        TEXT NOT NULL,
    content     TEXT NOT NULL,
    conv_time   INTEGER NOT NULL,
    ingested_at INTEGER NOT NULL,
    embedding   BLOB,
    embedder_id TEXT NOT NULL DEFAULT '',
    UNIQUE (session_id, idx)
);
CREATE INDEX turns_by_time ON turns (cube_id, conv_time, session_id, idx);

CREATE TABLE notes (
    id              TEXT PRIMARY KEY NOT NULL,
    cube_id         TEXT NOT NULL REFERENCES cubes(id) ON DELETE CASCADE,
    content         TEXT NOT NULL,
    kind            TEXT NOT NULL,
    keywords        TEXT NOT NULL DEFAULT '[]',
    tags            TEXT NOT NULL DEFAULT '[]',
    context         TEXT NOT NULL DEFAULT '',
    source_turn_ids TEXT NOT NULL DEFAULT '[]',
    valid_from      INTEGER,
    valid_to        INTEGER,
    recorded_at     INTEGER NOT NULL,
    superseded_at   INTEGER,
    superseded_by   TEXT NOT NULL DEFAULT '',
    status          TEXT NOT NULL,
    version         INTEGER NOT NULL,
    importance      REAL NOT NULL,
    strength        REAL NOT NULL,
    last_access     INTEGER NOT NULL,
    content_hash    TEXT NOT NULL,
    embedding       BLOB,
    embedder_id     TEXT NOT NULL DEFAULT '',
    updated_at      INTEGER NOT NULL
);
CREATE INDEX notes_by_hash ON notes (cube_id, content_hash);
CREATE INDEX notes_by_status ON notes (cube_id, status, recorded_at, id);
CREATE INDEX notes_by_time ON notes (cube_id, recorded_at, id);

CREATE TABLE note_versions (
    note_id     TEXT NOT NULL REFERENCES notes(id) ON DELETE CASCADE,
    cube_id     TEXT NOT NULL REFERENCES cubes(id) ON DELETE CASCADE,
    version     INTEGER NOT NULL,
    content     TEXT NOT NULL,
    kind        TEXT NOT NULL,
    keywords    TEXT NOT NULL DEFAULT '[]',
    tags        TEXT NOT NULL DEFAULT '[]',
    context     TEXT NOT NULL DEFAULT '',
    status      TEXT NOT NULL,
    valid_from  INTEGER,
    valid_to    INTEGER,
    reason      TEXT NOT NULL DEFAULT '',
    actor       TEXT NOT NULL DEFAULT '',
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (note_id, version)
);
CREATE INDEX note_versions_by_cube ON note_versions (cube_id);

CREATE TABLE links (
    cube_id     TEXT NOT NULL REFERENCES cubes(id) ON DELETE CASCADE,
    src_note_id TEXT NOT NULL REFERENCES notes(id) ON DELETE CASCADE,
    dst_note_id TEXT NOT NULL REFERENCES notes(id) ON DELETE CASCADE,
    relation    TEXT NOT NULL,
    weight      REAL NOT NULL,
    reason      TEXT NOT NULL DEFAULT '',
    created_at  INTEGER NOT NULL,
    UNIQUE (src_note_id, dst_note_id, relation)
);
CREATE INDEX links_by_dst ON links (dst_note_id);
CREATE INDEX links_by_cube ON links (cube_id, created_at);

CREATE TABLE events (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    cube_id     TEXT NOT NULL,
    actor       TEXT NOT NULL,
    action      TEXT NOT NULL,
    target_type TEXT NOT NULL,
    target_id   TEXT NOT NULL,
    detail_json TEXT NOT NULL DEFAULT '{}',
    at          INTEGER NOT NULL
);
CREATE INDEX events_by_cube ON events (cube_id, seq);

CREATE TABLE kv_segments (
    cube_id    TEXT NOT NULL REFERENCES cubes(id) ON DELETE CASCADE,
    model_id   TEXT NOT NULL,
    text_hash  TEXT NOT NULL,
    n_tokens   INTEGER NOT NULL,
    codec      TEXT NOT NULL,
    data       BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (cube_id, model_id, text_hash)
);

CREATE TABLE meta (
    key   TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
);

CREATE TABLE jobs (
    id           TEXT PRIMARY KEY NOT NULL,
    cube_id      TEXT NOT NULL REFERENCES cubes(id) ON DELETE CASCADE,
    kind         TEXT NOT NULL,
    state        TEXT NOT NULL,
    payload_json TEXT NOT NULL DEFAULT '{}',
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 0,
    error        TEXT NOT NULL DEFAULT ''
);
CREATE INDEX jobs_by_cube ON jobs (cube_id, state, created_at);
CREATE INDEX jobs_by_state ON jobs (state, updated_at);
)sql";

// Version 2: a job's outcome (notes built, links, duplicates) is kept with it; one queued note job per session is
// found by (cube_id, kind, session_key) so adds to a session while its job waits join that job. The content-hash
// index covers the status and order of the duplicate check (a point lookup instead of a scan of the cube's notes).
constexpr const char* kSchemaV2 = R"sql(
ALTER TABLE jobs ADD COLUMN result_json TEXT NOT NULL DEFAULT '{}';
ALTER TABLE jobs ADD COLUMN session_key TEXT NOT NULL DEFAULT '';
CREATE INDEX jobs_by_session ON jobs (cube_id, kind, session_key, state);
DROP INDEX notes_by_hash;
CREATE INDEX notes_by_hash ON notes (cube_id, content_hash, status, recorded_at);
)sql";

// Version 3: the job queue is read in creation order (claim the oldest queued job): an index on exactly that order,
// so a claim is a seek instead of sorting every queued job (a bulk import queues thousands).
constexpr const char* kSchemaV3 = R"sql(
CREATE INDEX jobs_queue ON jobs (state, created_at, id);
)sql";

// Version 4: a session's key is kept incrementally (memory/session_key.h): the unnormalised embedding sums of its
// user turns and of all its turns, and its user-turn count, so an append adds one turn's share instead of re-embedding
// the whole session. NULL sums (sessions written before version 4) are rebuilt from the turns on the next append.
constexpr const char* kSchemaV4 = R"sql(
ALTER TABLE sessions ADD COLUMN key_user_sum BLOB;
ALTER TABLE sessions ADD COLUMN key_all_sum BLOB;
ALTER TABLE sessions ADD COLUMN key_user_turns INTEGER NOT NULL DEFAULT 0;
)sql";

constexpr Migration kMigrations[] = {
    {1, kSchemaV1},
    {2, kSchemaV2},
    {3, kSchemaV3},
    {4, kSchemaV4},
};
static_assert(sizeof(kMigrations) / sizeof(kMigrations[0]) == kSchemaVersion,
              "one migration per schema version, in order");

Status too_new(int version) {
    return Status::not_supported(
        fmt::format("database schema version {} is newer than this build supports ({}); upgrade kasten to open it",
                    version, kSchemaVersion));
}

}  // namespace

Result<int> schema_version(Database& db) {
    KASTEN_ASSIGN_OR_RETURN(CachedStatement stmt, db.prepare("PRAGMA user_version"));
    KASTEN_ASSIGN_OR_RETURN(bool row, stmt->step());
    if (!row) return Status::internal("PRAGMA user_version returned no row");
    return stmt->column_int(0);
}

Status check_schema_supported(Database& db) {
    KASTEN_ASSIGN_OR_RETURN(int current, schema_version(db));
    return current > kSchemaVersion ? too_new(current) : Status::ok();
}

Status migrate(Database& db) {
    KASTEN_ASSIGN_OR_RETURN(int current, schema_version(db));
    if (current > kSchemaVersion) return too_new(current);
    for (const Migration& m : kMigrations) {
        if (m.version <= current) continue;
        Transaction tx(db);
        KASTEN_RETURN_IF_ERROR(tx.begin());
        // Another connection may have migrated while we waited for the write lock.
        KASTEN_ASSIGN_OR_RETURN(current, schema_version(db));
        if (current > kSchemaVersion) return too_new(current);
        if (m.version <= current) continue;
        KASTEN_RETURN_IF_ERROR(db.exec(m.sql).with_context(fmt::format("schema migration to version {}", m.version)));
        KASTEN_RETURN_IF_ERROR(db.exec(fmt::format("PRAGMA user_version = {}", m.version)));
        KASTEN_RETURN_IF_ERROR(tx.commit());
        if (!db.is_memory()) log::info("database '{}': schema migrated to version {}", db.path(), m.version);
        current = m.version;
    }
    return Status::ok();
}

}  // namespace kasten::store
