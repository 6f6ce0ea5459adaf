#include "store/records.h"

namespace kasten::store {

const char* note_status_name(NoteStatus s) {
    switch (s) {
        case NoteStatus::kActive:
            return "active";
        case NoteStatus::kSuperseded:
            return "superseded";
        case NoteStatus::kArchived:
            return "archived";
        case NoteStatus::kDeleted:
            return "deleted";
    }
    return "active";
}

bool parse_note_status(const std::string& text, NoteStatus* out) {
    static constexpr NoteStatus kAll[] = {NoteStatus::kActive, NoteStatus::kSuperseded, NoteStatus::kArchived,
                                          NoteStatus::kDeleted};
    for (NoteStatus s : kAll) {
        if (text == note_status_name(s)) {
            *out = s;
            return true;
        }
    }
    return false;
}

}  // namespace kasten::store
