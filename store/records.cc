#include "store/records.h"

namespace kasten::store {

const char* job_state_name(JobState s) {
    switch (s) {
        case JobState::kQueued:
            return "queued";
        case JobState::kRunning:
            return "running";
        case JobState::kDone:
            return "done";
        case JobState::kFailed:
            return "failed";
    }
    return "queued";
}

bool parse_job_state(const std::string& text, JobState* out) {
    static constexpr JobState kAll[] = {JobState::kQueued, JobState::kRunning, JobState::kDone, JobState::kFailed};
    for (JobState s : kAll) {
        if (text == job_state_name(s)) {
            *out = s;
            return true;
        }
    }
    return false;
}

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
