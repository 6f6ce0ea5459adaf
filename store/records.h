#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"

namespace kasten::store {

// Plain rows of the store (docs/architecture.md). Ids are opaque TEXT, globally unique ("t_…", "s_…", "n_…"),
// except a session's external_id, which is the caller's id and unique within its cube.

struct CubeRecord {
    std::string id;  // caller-chosen, [A-Za-z0-9._:-]{1,128}
    std::string name;
    std::string embedder_id;  // the one embedder every vector of this cube comes from ("" until the first vector)
    TimeMs created_at = 0;
    std::string metadata_json = "{}";
};

struct SessionRecord {
    std::string id;  // internal "s_…"
    std::string cube_id;
    std::string external_id;  // caller's session id
    TimeMs started_at = 0;    // conversation time of its first turn
    std::string summary;
    std::vector<float> embedding;  // empty when not embedded
    std::string embedder_id;
};

// The running sums a session's key is kept in (memory/session_key.h): the unnormalised embedding sums of its user
// turns and (while it has no user turn, the only time it is the key) of all its turns, dim floats each, from
// `embedder_id`; and how many user turns it has. Empty sums mean unknown: the key is rebuilt from the turns.
struct SessionKeyState {
    std::vector<float> user_sum;
    std::vector<float> all_sum;
    std::int64_t user_turns = 0;
    std::string embedder_id;
    bool known() const { return !all_sum.empty(); }
};

struct TurnRecord {
    std::string id;  // "t_…"
    std::string cube_id;
    std::string session_id;  // internal session id
    int index = 0;           // 0-based position within the session
    std::string role;        // user | assistant | system | tool
    std::string content;
    TimeMs conv_time = 0;    // conversation (world) time of the message
    TimeMs ingested_at = 0;  // system time
    std::vector<float> embedding;
    std::string embedder_id;
};

// Where a turn sits: its session (internal id) and 0-based index in it.
struct TurnPlace {
    std::string id;
    std::string session_id;
    int index = 0;
};

enum class NoteStatus { kActive, kSuperseded, kArchived, kDeleted };

struct NoteRecord {
    std::string id;  // "n_…"
    std::string cube_id;
    std::string content;
    std::string kind = "fact";  // fact | preference | event | summary | profile | …
    std::vector<std::string> keywords;
    std::vector<std::string> tags;
    std::string context;  // one line (A-MEM)
    std::vector<std::string> source_turn_ids;
    std::optional<TimeMs> valid_from;  // world time
    std::optional<TimeMs> valid_to;
    TimeMs recorded_at = 0;  // system time
    std::optional<TimeMs> superseded_at;
    std::string superseded_by;  // note id or ""
    NoteStatus status = NoteStatus::kActive;
    int version = 1;
    double importance = 0.5;
    double strength = 1.0;  // MemoryBank strength S
    TimeMs last_access = 0;
    std::string content_hash;  // sha256 of normalized content
    std::vector<float> embedding;
    std::string embedder_id;
    TimeMs updated_at = 0;
};

// What a search needs of a note to credit its source turns: the fields that decide its visibility, and its sources
// (held in memory by memory::NoteSourceIndex). A NoteRecord's same-named fields.
struct NoteSourcesRecord {
    std::string id;
    NoteStatus status = NoteStatus::kActive;
    std::optional<TimeMs> valid_from;
    std::optional<TimeMs> valid_to;
    TimeMs recorded_at = 0;
    std::vector<std::string> source_turn_ids;
};

// An earlier state of a note, written before every change.
struct NoteVersionRecord {
    std::string note_id;
    int version = 0;
    std::string content;
    std::string kind;
    std::vector<std::string> keywords;
    std::vector<std::string> tags;
    std::string context;
    NoteStatus status = NoteStatus::kActive;
    std::optional<TimeMs> valid_from;
    std::optional<TimeMs> valid_to;
    std::string reason;  // evolution | update | supersede | user_edit | create
    std::string actor;   // api key name, "cli", "scheduler", …
    TimeMs created_at = 0;
};

struct LinkRecord {
    std::string cube_id;
    std::string src_note_id;
    std::string dst_note_id;
    std::string relation;  // related | supports | contradicts | updates | follows | part_of
    double weight = 1.0;
    std::string reason;
    TimeMs created_at = 0;
};

struct EventRecord {
    std::int64_t seq = 0;  // assigned by the store
    std::string cube_id;
    std::string actor;
    std::string action;       // e.g. "turns.add", "note.patch", "cube.delete"
    std::string target_type;  // cube | session | turn | note | link
    std::string target_id;
    std::string detail_json = "{}";
    TimeMs at = 0;
};

struct KvSegmentRecord {
    std::string cube_id;
    std::string model_id;
    std::string text_hash;
    int n_tokens = 0;
    std::string codec;  // e.g. "f16", "kivi-q4"
    std::string data;   // opaque bytes
    TimeMs created_at = 0;
};

// A unit of background work (note building). Its state lives in SQLite so it survives restarts.
enum class JobState { kQueued, kRunning, kDone, kFailed };

struct JobRecord {
    std::string id;  // "j_…"
    std::string cube_id;
    std::string kind;  // e.g. "notes.build"
    JobState state = JobState::kQueued;
    std::string payload_json = "{}";  // kind-specific input
    TimeMs created_at = 0;
    TimeMs updated_at = 0;
    int attempts = 0;                // times a worker has started it
    std::string error;               // last error ("" when none)
    std::string result_json = "{}";  // kind-specific outcome, set when done
    std::string session_key;         // the session a note job batches (internal session id), "" otherwise
};

const char* job_state_name(JobState s);
// false when the text is not a job state name.
bool parse_job_state(const std::string& text, JobState* out);

const char* note_status_name(NoteStatus s);
// false when the text is not a status name.
bool parse_note_status(const std::string& text, NoteStatus* out);

}  // namespace kasten::store
