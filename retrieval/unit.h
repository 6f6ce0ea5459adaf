#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"

namespace kasten::retrieval {

// The granularity of an indexed unit.
enum class UnitType { kTurn, kSession, kNote };

// "turn" | "session" | "note"
const char* unit_type_name(UnitType t);
// false on unknown text.
bool parse_unit_type(std::string_view text, UnitType* out);

// What an index stores about one unit besides its text/vector, so filters run inside the index.
struct UnitAttrs {
    std::string cube_id;
    UnitType type = UnitType::kTurn;
    std::string id;          // the store id of the turn, session or note
    TimeMs time = 0;         // turn: conversation time; session: start; note: valid_from or recorded_at
    std::string role;        // turns only ("" otherwise)
    std::string session_id;  // turns and sessions: internal session id ("" for notes)
};

// Restricts a search. cube_id and type are mandatory: an index never returns another cube's units.
struct SearchFilter {
    std::string cube_id;
    UnitType type = UnitType::kTurn;
    std::optional<TimeMs> time_from;  // inclusive
    std::optional<TimeMs> time_to;    // inclusive
    std::optional<std::string> role;
    std::optional<std::string> session_id;
};

struct ScoredId {
    std::string id;
    double score = 0;  // higher is better; scale depends on the producer
};

}  // namespace kasten::retrieval
