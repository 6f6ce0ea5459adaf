#include "memory/store_writer.h"

#include <gtest/gtest.h>

#include "common/clock.h"
#include "memory/recall_queue.h"

namespace kasten::memory {
namespace {

class StoreWriterTest : public ::testing::Test {
  protected:
    void SetUp() override {
        auto w = StoreWriter::open(":memory:", clock_, recalls_);
        ASSERT_TRUE(w.is_ok()) << w.status().to_string();
        writer_ = std::move(w).value();
    }
    store::EventRecord event(const std::string& cube, const std::string& action) {
        store::EventRecord e;
        e.cube_id = cube;
        e.actor = "test";
        e.action = action;
        e.target_type = "cube";
        e.target_id = cube;
        return e;
    }
    Status create_cube(Repositories& repos, const std::string& id) {
        store::CubeRecord c;
        c.id = id;
        c.name = id;
        c.created_at = 1;
        return repos.cubes.create(c);
    }
    FakeClock clock_{1700000000000};
    RecallQueue recalls_;
    std::unique_ptr<StoreWriter> writer_;
};

TEST_F(StoreWriterTest, CommitStoresTheChangeWithItsEventAndRunsAfterWithTheSeq) {
    std::int64_t after_seq = -1;
    auto seq = writer_->commit(
        event("a", "cube.create"),
        [&](Repositories& repos, store::EventRecord& e) {
            e.detail_json = R"({"x":1})";
            return create_cube(repos, "a");
        },
        [&](std::int64_t s) { after_seq = s; });
    ASSERT_TRUE(seq.is_ok()) << seq.status().to_string();
    EXPECT_EQ(after_seq, *seq);
    EXPECT_EQ(writer_->last_seq(), *seq);
    auto events = writer_->locked([](Repositories& repos) { return repos.events.list_all(0, -1); });
    ASSERT_TRUE(events.is_ok());
    ASSERT_EQ(events->size(), 1u);
    EXPECT_EQ((*events)[0].action, "cube.create");
    EXPECT_EQ((*events)[0].detail_json, R"({"x":1})");
    EXPECT_EQ((*events)[0].at, clock_.now_ms());
}

TEST_F(StoreWriterTest, AFailedWriteRollsBackEverythingAndSkipsAfter) {
    bool after_ran = false;
    auto seq = writer_->commit(
        event("a", "cube.create"),
        [&](Repositories& repos, store::EventRecord&) -> Status {
            KASTEN_RETURN_IF_ERROR(create_cube(repos, "a"));
            return Status::invalid_argument("no");
        },
        [&](std::int64_t) { after_ran = true; });
    EXPECT_EQ(seq.status().code(), StatusCode::kInvalidArgument);
    EXPECT_FALSE(after_ran);
    EXPECT_EQ(writer_->last_seq(), 0);
    auto cubes = writer_->locked([](Repositories& repos) { return repos.cubes.count(); });
    EXPECT_EQ(cubes.value(), 0);
    auto events = writer_->locked([](Repositories& repos) { return repos.events.list_all(0, -1); });
    EXPECT_TRUE(events->empty());
}

TEST_F(StoreWriterTest, QueuedRecallsRideAlongWithTheNextCommit) {
    store::NoteRecord n;
    n.id = "n_1";
    n.cube_id = "a";
    n.content = "a note";
    n.kind = "fact";
    n.recorded_at = 1;
    n.updated_at = 1;
    n.strength = 1.0;
    ASSERT_TRUE(writer_
                    ->commit(event("a", "note.add"),
                             [&](Repositories& repos, store::EventRecord&) -> Status {
                                 KASTEN_RETURN_IF_ERROR(create_cube(repos, "a"));
                                 return repos.notes.insert(n, "test");
                             })
                    .is_ok());
    recalls_.recall("a", "n_1", 5000, 1.0);
    recalls_.recall("a", "n_gone", 5000, 1.0);  // a deleted note's recall is dropped, not an error
    EXPECT_EQ(recalls_.size(), 2);
    ASSERT_TRUE(writer_
                    ->commit(event("b", "cube.create"),
                             [&](Repositories& repos, store::EventRecord&) { return create_cube(repos, "b"); })
                    .is_ok());
    EXPECT_EQ(recalls_.size(), 0);
    auto stored = writer_->locked([](Repositories& repos) { return repos.notes.get("a", "n_1"); });
    ASSERT_TRUE(stored.is_ok());
    EXPECT_EQ(stored->last_access, 5000);
    EXPECT_GT(stored->strength, 1.0);
}

}  // namespace
}  // namespace kasten::memory
