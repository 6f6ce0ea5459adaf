#include "store/event_log.h"

#include <gtest/gtest.h>

#include "store/cube_store.h"
#include "tests/store/store_fixture.h"

namespace kasten::store {
namespace {

class EventLogTest : public testing::StoreFixture {
  protected:
    static EventRecord make_event(const std::string& cube, const std::string& action, TimeMs at) {
        EventRecord e;
        e.cube_id = cube;
        e.actor = "api:alice";
        e.action = action;
        e.target_type = "note";
        e.target_id = "n_'1";
        e.detail_json = R"({"reason":"it's \"x\"","sql":"'); DROP TABLE turns;--"})";
        e.at = at;
        return e;
    }
};

TEST_F(EventLogTest, AppendAndListRoundTrip) {
    EventLog log(db());
    std::vector<std::int64_t> seqs;
    for (int i = 0; i < 5; ++i) {
        auto seq = log.append(make_event(i % 2 == 0 ? "c" : "other", "note.patch" + std::to_string(i), 100 + i));
        ASSERT_TRUE(seq.is_ok()) << seq.status().to_string();
        if (!seqs.empty()) {
            EXPECT_GT(*seq, seqs.back());
        }
        seqs.push_back(*seq);
    }
    auto c_events = log.list("c", 0, -1);
    ASSERT_TRUE(c_events.is_ok());
    ASSERT_EQ(c_events->size(), 3u);
    const EventRecord want = make_event("c", "note.patch2", 102);
    const EventRecord& got = (*c_events)[1];
    EXPECT_EQ(got.seq, seqs[2]);
    EXPECT_EQ(got.cube_id, want.cube_id);
    EXPECT_EQ(got.actor, want.actor);
    EXPECT_EQ(got.action, want.action);
    EXPECT_EQ(got.target_type, want.target_type);
    EXPECT_EQ(got.target_id, want.target_id);
    EXPECT_EQ(got.detail_json, want.detail_json);
    EXPECT_EQ(got.at, want.at);

    auto after = log.list("c", seqs[0], 1);
    ASSERT_TRUE(after.is_ok());
    ASSERT_EQ(after->size(), 1u);
    EXPECT_EQ((*after)[0].seq, seqs[2]);
    EXPECT_TRUE(log.list("c", seqs[4], -1)->empty());
    EXPECT_TRUE(log.list("nope", 0, -1)->empty());
}

TEST_F(EventLogTest, EventsNeedNoCubeAndSeqsAreNeverReused) {
    EventLog log(db());
    ASSERT_TRUE(CubeStore(db()).create(make_cube("c")).is_ok());
    auto first = log.append(make_event("c", "cube.create", 1));
    ASSERT_TRUE(first.is_ok());
    ASSERT_TRUE(CubeStore(db()).remove("c").is_ok());
    EXPECT_TRUE(log.list("c", 0, -1)->empty());
    auto deleted = log.append(make_event("c", "cube.delete", 2));  // logged after the cube is gone
    ASSERT_TRUE(deleted.is_ok());
    EXPECT_GT(*deleted, *first);
    ASSERT_EQ(log.list("c", 0, -1)->size(), 1u);
}

}  // namespace
}  // namespace kasten::store
