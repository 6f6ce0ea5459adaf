#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result.h"
#include "store/records.h"

namespace kasten::api::mem0 {

// How Mem0's entities map onto kasten (docs/mem0.md):
//   - the cube is the first of user_id, agent_id, app_id, run_id that is given: "user:<id>", "agent:<id>",
//     "app:<id>", "run:<id>", the id escaped into the cube id alphabet (escape_id);
//   - run_id (when it is not the cube) is the session of the added turns (escaped the same way);
//   - the entities that are not the cube, the memory's metadata and nothing else are kept on each note as tags
//     with the reserved prefix "mem0." ("mem0.agent_id:<id>", "mem0.run_id:<id>", "mem0.metadata:<json>"); the
//     other tags are Mem0's categories.
// Pure functions; thread-safe.

struct Entities {
    std::optional<std::string> user_id;
    std::optional<std::string> agent_id;
    std::optional<std::string> app_id;
    std::optional<std::string> run_id;
    bool any() const { return user_id || agent_id || app_id || run_id; }
};

// Entity names: "user_id", "agent_id", "app_id", "run_id".
extern const char* const kEntityFields[4];
std::optional<std::string>* entity_slot(Entities& e, std::string_view field);
const std::optional<std::string>* entity_slot(const Entities& e, std::string_view field);

// Bytes outside [A-Za-z0-9.-] become "_XX" (upper-case hex), so any UTF-8 id fits the cube/session id alphabet
// ([A-Za-z0-9._:-]) and maps back one to one.
std::string escape_id(std::string_view id);
// The inverse; nullopt when `escaped` is not an escape_id output.
std::optional<std::string> unescape_id(std::string_view escaped);

// The cube of these entities. kInvalidArgument when none is given or the cube id would exceed 128 bytes
// (naming the field).
Result<std::string> cube_for(const Entities& entities);
// The session id a run_id maps to (kInvalidArgument when too long).
Result<std::string> session_for_run(const std::string& run_id);
// The entity a cube made by cube_for stands for, e.g. {"user", "alice"}; nullopt for other cubes.
struct CubeEntity {
    std::string type;  // user | agent | app | run
    std::string name;
};
std::optional<CubeEntity> entity_of_cube(std::string_view cube_id);

// What a note means in Mem0's terms.
struct NoteScope {
    Entities entities;                    // the cube's entity and the tagged ones
    nlohmann::json metadata;              // null when none was stored
    std::vector<std::string> categories;  // the note's tags without the "mem0." ones
};
NoteScope scope_of(const store::NoteRecord& note);

// The note's tags with its "mem0." entity and metadata tags replaced: entities (those not already the cube's)
// and metadata (null = none).
std::vector<std::string> tags_with_scope(const std::vector<std::string>& tags, const Entities& entities,
                                         std::string_view cube_id, const nlohmann::json& metadata);
// The tags with the "mem0.metadata" tag replaced (null = removed), the rest kept.
std::vector<std::string> tags_with_metadata(const std::vector<std::string>& tags, const nlohmann::json& metadata);

}  // namespace kasten::api::mem0
