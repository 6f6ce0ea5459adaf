#include "store/cube_store.h"

#include <gtest/gtest.h>

#include <map>

#include "store/event_log.h"
#include "store/kv_segment_store.h"
#include "store/link_store.h"
#include "store/meta_store.h"
#include "store/note_store.h"
#include "store/session_store.h"
#include "store/turn_store.h"
#include "tests/store/store_fixture.h"

namespace kasten::store {
namespace {

class CubeStoreTest : public testing::StoreFixture {
  protected:
    // Fills every table with rows of `cube`.
    void populate(const std::string& cube) {
        ASSERT_TRUE(CubeStore(db()).create(make_cube(cube)).is_ok());
        SessionStore sessions(db());
        TurnStore turns(db());
        NoteStore notes(db());
        for (int s = 0; s < 2; ++s) {
            const std::string sid = cube + "_s" + std::to_string(s);
            ASSERT_TRUE(sessions.insert(make_session(cube, sid)).is_ok());
            for (int t = 0; t < 3; ++t) {
                ASSERT_TRUE(turns.insert(make_turn(cube, sid, sid + "_t" + std::to_string(t), t, 100 * s + t)).is_ok());
            }
        }
        ASSERT_TRUE(notes.insert(make_note(cube, cube + "_n1")).is_ok());
        ASSERT_TRUE(notes.insert(make_note(cube, cube + "_n2")).is_ok());
        NoteRecord changed = make_note(cube, cube + "_n1");
        changed.content = "changed";
        ASSERT_TRUE(notes.update(changed, "update", "test", 9000).is_ok());
        LinkRecord link{cube, cube + "_n1", cube + "_n2", "related", 0.5, "because", 10};
        ASSERT_TRUE(LinkStore(db()).upsert(link).is_ok());
        EventRecord ev;
        ev.cube_id = cube;
        ev.actor = "test";
        ev.action = "turns.add";
        ev.target_type = "turn";
        ev.target_id = "x";
        ASSERT_TRUE(EventLog(db()).append(ev).is_ok());
        KvSegmentRecord kv{cube, "model", "hash", 3, "f16", "bytes", 5};
        ASSERT_TRUE(KvSegmentStore(db()).put(kv).is_ok());
        ASSERT_TRUE(db().exec("INSERT INTO jobs (id, cube_id, kind, state, created_at, updated_at) VALUES ('" + cube +
                              "_job', '" + cube + "', 'notes', 'pending', 1, 1)")
                        .is_ok());
    }

    std::map<std::string, std::int64_t> counts(const std::string& cube) {
        std::map<std::string, std::int64_t> out;
        for (const char* table :
             {"cubes", "sessions", "turns", "notes", "note_versions", "links", "events", "kv_segments", "jobs"}) {
            out[table] = testing::count_rows(db(), table, cube);
        }
        return out;
    }
};

TEST_F(CubeStoreTest, CreateGetListRoundTrip) {
    CubeStore cubes(db());
    CubeRecord b = make_cube("b-2");
    b.metadata_json = R"({"quote":"it's \"x\""})";
    b.embedder_id = "emb";
    ASSERT_TRUE(cubes.create(b).is_ok());
    ASSERT_TRUE(cubes.create(make_cube("a.1:x_y")).is_ok());
    auto got = cubes.get("b-2");
    ASSERT_TRUE(got.is_ok());
    EXPECT_EQ(got->id, b.id);
    EXPECT_EQ(got->name, b.name);
    EXPECT_EQ(got->embedder_id, b.embedder_id);
    EXPECT_EQ(got->created_at, b.created_at);
    EXPECT_EQ(got->metadata_json, b.metadata_json);
    auto all = cubes.list();
    ASSERT_TRUE(all.is_ok());
    ASSERT_EQ(all->size(), 2u);
    EXPECT_EQ((*all)[0].id, "a.1:x_y");
    EXPECT_EQ((*all)[1].id, "b-2");
    EXPECT_EQ(*cubes.count(), 2);
    EXPECT_EQ(cubes.get("nope").status().code(), StatusCode::kNotFound);
}

TEST_F(CubeStoreTest, RejectsDuplicatesAndBadIds) {
    CubeStore cubes(db());
    ASSERT_TRUE(cubes.create(make_cube("c")).is_ok());
    Status dup = cubes.create(make_cube("c"));
    EXPECT_EQ(dup.code(), StatusCode::kAlreadyExists);
    EXPECT_NE(dup.message().find("'c'"), std::string::npos);
    for (const std::string& bad : {std::string(), std::string(129, 'a'), std::string("a b"),
                                   std::string("x'); DROP TABLE turns;--"), std::string("ü")}) {
        EXPECT_EQ(cubes.create(make_cube(bad)).code(), StatusCode::kInvalidArgument) << bad;
    }
    EXPECT_TRUE(cubes.create(make_cube(std::string(128, 'a'))).is_ok());
}

TEST_F(CubeStoreTest, SetEmbedder) {
    CubeStore cubes(db());
    ASSERT_TRUE(cubes.create(make_cube("c")).is_ok());
    ASSERT_TRUE(cubes.set_embedder("c", "bge-small").is_ok());
    EXPECT_EQ(cubes.get("c")->embedder_id, "bge-small");
    EXPECT_EQ(cubes.set_embedder("nope", "x").code(), StatusCode::kNotFound);
}

TEST_F(CubeStoreTest, Stats) {
    populate("a");
    auto stats = CubeStore(db()).stats("a");
    ASSERT_TRUE(stats.is_ok());
    EXPECT_EQ(stats->sessions, 2);
    EXPECT_EQ(stats->turns, 6);
    EXPECT_EQ(stats->notes, 2);
    EXPECT_EQ(stats->links, 1);
    EXPECT_EQ(CubeStore(db()).stats("nope").status().code(), StatusCode::kNotFound);
}

TEST_F(CubeStoreTest, RemoveDeletesEveryRowOfThatCubeAndNoneOfAnother) {
    populate("a");
    populate("b");
    ASSERT_TRUE(MetaStore(db()).set("watermark", "7").is_ok());
    const auto b_before = counts("b");
    for (const auto& [table, n] : counts("a")) EXPECT_GT(n, 0) << table;
    EXPECT_EQ(counts("a"), b_before);

    ASSERT_TRUE(CubeStore(db()).remove("a").is_ok());

    for (const auto& [table, n] : counts("a")) EXPECT_EQ(n, 0) << table;
    EXPECT_EQ(counts("b"), b_before);
    EXPECT_EQ(*MetaStore(db()).get("watermark"), "7");
    EXPECT_EQ(CubeStore(db()).remove("a").code(), StatusCode::kNotFound);
    // The id is free again.
    EXPECT_TRUE(CubeStore(db()).create(make_cube("a")).is_ok());
}

TEST_F(CubeStoreTest, RemoveInsideCallerTransactionRollsBackWithIt) {
    populate("a");
    const auto before = counts("a");
    {
        Transaction tx(db());
        ASSERT_TRUE(tx.begin().is_ok());
        ASSERT_TRUE(CubeStore(db()).remove("a").is_ok());
        EXPECT_EQ(testing::count_rows(db(), "turns", "a"), 0);
    }
    EXPECT_EQ(counts("a"), before);
}

}  // namespace
}  // namespace kasten::store
