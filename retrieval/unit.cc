#include "retrieval/unit.h"

namespace kasten::retrieval {

const char* unit_type_name(UnitType t) {
    switch (t) {
        case UnitType::kTurn:
            return "turn";
        case UnitType::kSession:
            return "session";
        case UnitType::kNote:
            return "note";
    }
    return "turn";
}

bool parse_unit_type(std::string_view text, UnitType* out) {
    UnitType t;
    if (text == "turn") {
        t = UnitType::kTurn;
    } else if (text == "session") {
        t = UnitType::kSession;
    } else if (text == "note") {
        t = UnitType::kNote;
    } else {
        return false;
    }
    if (out != nullptr) *out = t;
    return true;
}

}  // namespace kasten::retrieval
