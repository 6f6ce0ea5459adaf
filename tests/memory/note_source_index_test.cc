#include "memory/note_source_index.h"

#include <gtest/gtest.h>

namespace kasten::memory {
namespace {

store::NoteSourcesRecord note(const std::string& id, std::vector<std::string> sources,
                              store::NoteStatus status = store::NoteStatus::kActive) {
    store::NoteSourcesRecord n;
    n.id = id;
    n.status = status;
    n.recorded_at = 5;
    n.source_turn_ids = std::move(sources);
    return n;
}

std::vector<std::string> ids(const std::vector<NoteSourceIndex::Entry>& entries) {
    std::vector<std::string> out;
    for (const auto& e : entries) out.push_back(e ? e->id : "-");
    return out;
}

TEST(NoteSourceIndexTest, GetManyAnswersInRequestOrderPerCube) {
    NoteSourceIndex index;
    index.put("c", note("n1", {"t1"}));
    index.put("c", note("n2", {"t2", "t3"}));
    index.put("other", note("n3", {"t9"}));
    const auto got = index.get_many("c", {"n2", "missing", "n1", "n3"});
    EXPECT_EQ(ids(got), (std::vector<std::string>{"n2", "-", "n1", "-"}));
    EXPECT_EQ(got[0]->source_turn_ids, (std::vector<std::string>{"t2", "t3"}));
    EXPECT_EQ(ids(index.get_many("nowhere", {"n1"})), (std::vector<std::string>{"-"}));
    EXPECT_EQ(index.size("c"), 2u);
    EXPECT_EQ(index.size("other"), 1u);
}

TEST(NoteSourceIndexTest, PutReplacesAndADeletedNoteIsRemoved) {
    NoteSourceIndex index;
    index.put("c", note("n1", {"t1"}));
    const auto before = index.get_many("c", {"n1"}).front();
    index.put("c", note("n1", {"t7"}, store::NoteStatus::kSuperseded));
    const auto after = index.get_many("c", {"n1"}).front();
    ASSERT_NE(after, nullptr);
    EXPECT_EQ(after->status, store::NoteStatus::kSuperseded);
    EXPECT_EQ(after->source_turn_ids, (std::vector<std::string>{"t7"}));
    // A record handed out before stays as it was.
    EXPECT_EQ(before->source_turn_ids, (std::vector<std::string>{"t1"}));
    index.put("c", note("n1", {"t7"}, store::NoteStatus::kDeleted));
    EXPECT_EQ(index.get_many("c", {"n1"}).front(), nullptr);
    EXPECT_EQ(index.size("c"), 0u);
}

TEST(NoteSourceIndexTest, RemoveResetAndRemoveCube) {
    NoteSourceIndex index;
    index.put("c", note("n1", {"t1"}));
    index.put("c", note("n2", {"t2"}));
    index.put("d", note("n3", {"t3"}));
    index.remove("c", "n1");
    index.remove("c", "missing");
    index.remove("nowhere", "n1");
    EXPECT_EQ(ids(index.get_many("c", {"n1", "n2"})), (std::vector<std::string>{"-", "n2"}));
    index.reset_cube("c", {note("n4", {"t4"}), note("n5", {"t5"}, store::NoteStatus::kDeleted)});
    EXPECT_EQ(ids(index.get_many("c", {"n2", "n4", "n5"})), (std::vector<std::string>{"-", "n4", "-"}));
    index.remove_cube("c");
    EXPECT_EQ(index.size("c"), 0u);
    EXPECT_EQ(index.size("d"), 1u);
}

TEST(NoteSourceIndexTest, SourcesOfCopiesWhatASearchReads) {
    store::NoteRecord n;
    n.id = "n1";
    n.cube_id = "c";
    n.content = "not copied";
    n.status = store::NoteStatus::kArchived;
    n.valid_from = 10;
    n.valid_to = 20;
    n.recorded_at = 7;
    n.source_turn_ids = {"t1", "t2"};
    const store::NoteSourcesRecord r = NoteSourceIndex::sources_of(n);
    EXPECT_EQ(r.id, "n1");
    EXPECT_EQ(r.status, store::NoteStatus::kArchived);
    EXPECT_EQ(r.valid_from, 10);
    EXPECT_EQ(r.valid_to, 20);
    EXPECT_EQ(r.recorded_at, 7);
    EXPECT_EQ(r.source_turn_ids, n.source_turn_ids);
}

}  // namespace
}  // namespace kasten::memory
