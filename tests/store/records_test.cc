#include "store/records.h"

#include <gtest/gtest.h>

namespace kasten::store {
namespace {

TEST(NoteStatusTest, NamesRoundTrip) {
    for (NoteStatus s : {NoteStatus::kActive, NoteStatus::kSuperseded, NoteStatus::kArchived, NoteStatus::kDeleted}) {
        NoteStatus parsed = NoteStatus::kActive;
        ASSERT_TRUE(parse_note_status(note_status_name(s), &parsed)) << note_status_name(s);
        EXPECT_EQ(parsed, s);
    }
    EXPECT_STREQ(note_status_name(NoteStatus::kActive), "active");
    EXPECT_STREQ(note_status_name(NoteStatus::kSuperseded), "superseded");
    EXPECT_STREQ(note_status_name(NoteStatus::kArchived), "archived");
    EXPECT_STREQ(note_status_name(NoteStatus::kDeleted), "deleted");
}

TEST(NoteStatusTest, RejectsUnknownNames) {
    NoteStatus parsed = NoteStatus::kArchived;
    EXPECT_FALSE(parse_note_status("", &parsed));
    EXPECT_FALSE(parse_note_status("Active", &parsed));
    EXPECT_FALSE(parse_note_status("active ", &parsed));
    EXPECT_EQ(parsed, NoteStatus::kArchived);  // untouched on failure
}

}  // namespace
}  // namespace kasten::store
