#include "store/session_store.h"

#include <gtest/gtest.h>

#include "store/cube_store.h"
#include "store/turn_store.h"
#include "tests/store/store_fixture.h"

namespace kasten::store {
namespace {

class SessionStoreTest : public testing::StoreFixture {
  protected:
    void SetUp() override {
        StoreFixture::SetUp();
        ASSERT_TRUE(CubeStore(db()).create(make_cube("c")).is_ok());
        ASSERT_TRUE(CubeStore(db()).create(make_cube("other")).is_ok());
    }
};

TEST_F(SessionStoreTest, InsertGetRoundTripsEveryField) {
    SessionStore sessions(db());
    SessionRecord s = make_session("c", "s_1", 1234567890123);
    s.external_id = "'); DROP TABLE turns;--";
    s.summary = "O'Brien said \"hi\" — 日本語\n";
    ASSERT_TRUE(sessions.insert(s).is_ok());
    auto got = sessions.get("c", "s_1");
    ASSERT_TRUE(got.is_ok()) << got.status().to_string();
    testing::expect_equal(*got, s);
    auto by_ext = sessions.get_by_external("c", s.external_id);
    ASSERT_TRUE(by_ext.is_ok());
    testing::expect_equal(*by_ext, s);
    EXPECT_EQ(testing::count_rows(db(), "turns", "c"), 0);  // the table is still there
}

TEST_F(SessionStoreTest, EmptyEmbeddingRoundTrips) {
    SessionStore sessions(db());
    SessionRecord s = make_session("c", "s_1");
    s.embedding.clear();
    s.embedder_id.clear();
    ASSERT_TRUE(sessions.insert(s).is_ok());
    testing::expect_equal(*sessions.get("c", "s_1"), s);
}

TEST_F(SessionStoreTest, UniquenessAndMissingCube) {
    SessionStore sessions(db());
    ASSERT_TRUE(sessions.insert(make_session("c", "s_1")).is_ok());
    EXPECT_EQ(sessions.insert(make_session("c", "s_1")).code(), StatusCode::kAlreadyExists);
    SessionRecord same_external = make_session("c", "s_2");
    same_external.external_id = "ext-s_1";
    EXPECT_EQ(sessions.insert(same_external).code(), StatusCode::kAlreadyExists);
    // The same external id in another cube is fine.
    same_external.cube_id = "other";
    EXPECT_TRUE(sessions.insert(same_external).is_ok());
    EXPECT_EQ(sessions.insert(make_session("nope", "s_9")).code(), StatusCode::kNotFound);
}

TEST_F(SessionStoreTest, QueriesAreScopedToTheCube) {
    SessionStore sessions(db());
    ASSERT_TRUE(sessions.insert(make_session("c", "s_1")).is_ok());
    EXPECT_EQ(sessions.get("other", "s_1").status().code(), StatusCode::kNotFound);
    EXPECT_EQ(sessions.get_by_external("other", "ext-s_1").status().code(), StatusCode::kNotFound);
    EXPECT_EQ(sessions.remove("other", "s_1").code(), StatusCode::kNotFound);
    EXPECT_EQ(sessions.set_started_at("other", "s_1", 1).code(), StatusCode::kNotFound);
    EXPECT_EQ(*sessions.count("other"), 0);
    EXPECT_TRUE(sessions.get("c", "s_1").is_ok());
}

TEST_F(SessionStoreTest, ListOrdersByStartThenIdWithPaging) {
    SessionStore sessions(db());
    ASSERT_TRUE(sessions.insert(make_session("c", "s_b", 20)).is_ok());
    ASSERT_TRUE(sessions.insert(make_session("c", "s_a", 20)).is_ok());
    ASSERT_TRUE(sessions.insert(make_session("c", "s_z", 10)).is_ok());
    ASSERT_TRUE(sessions.insert(make_session("other", "s_o", 0)).is_ok());
    auto all = sessions.list("c", -1, 0);
    ASSERT_TRUE(all.is_ok());
    ASSERT_EQ(all->size(), 3u);
    EXPECT_EQ((*all)[0].id, "s_z");
    EXPECT_EQ((*all)[1].id, "s_a");
    EXPECT_EQ((*all)[2].id, "s_b");
    auto page = sessions.list("c", 1, 1);
    ASSERT_TRUE(page.is_ok());
    ASSERT_EQ(page->size(), 1u);
    EXPECT_EQ((*page)[0].id, "s_a");
    EXPECT_TRUE(sessions.list("c", 0, 0)->empty());
    EXPECT_TRUE(sessions.list("c", 10, 3)->empty());
    EXPECT_EQ(*sessions.count("c"), 3);
}

TEST_F(SessionStoreTest, Updates) {
    SessionStore sessions(db());
    ASSERT_TRUE(sessions.insert(make_session("c", "s_1")).is_ok());
    ASSERT_TRUE(sessions.update_embedding("c", "s_1", {9.0f, 8.0f}, "emb-2").is_ok());
    ASSERT_TRUE(sessions.set_started_at("c", "s_1", 777).is_ok());
    ASSERT_TRUE(sessions.set_summary("c", "s_1", "new summary").is_ok());
    auto got = sessions.get("c", "s_1");
    ASSERT_TRUE(got.is_ok());
    EXPECT_EQ(got->embedding, (std::vector<float>{9.0f, 8.0f}));
    EXPECT_EQ(got->embedder_id, "emb-2");
    EXPECT_EQ(got->started_at, 777);
    EXPECT_EQ(got->summary, "new summary");
    ASSERT_TRUE(sessions.update_embedding("c", "s_1", {}, "").is_ok());
    EXPECT_TRUE(sessions.get("c", "s_1")->embedding.empty());
    EXPECT_EQ(sessions.update_embedding("c", "nope", {1.0f}, "e").code(), StatusCode::kNotFound);
    EXPECT_EQ(sessions.set_summary("c", "nope", "x").code(), StatusCode::kNotFound);
}

TEST_F(SessionStoreTest, RemoveCascadesToTurns) {
    SessionStore sessions(db());
    TurnStore turns(db());
    ASSERT_TRUE(sessions.insert(make_session("c", "s_1")).is_ok());
    ASSERT_TRUE(sessions.insert(make_session("c", "s_2")).is_ok());
    ASSERT_TRUE(turns.insert(make_turn("c", "s_1", "t_1", 0, 1)).is_ok());
    ASSERT_TRUE(turns.insert(make_turn("c", "s_1", "t_2", 1, 2)).is_ok());
    ASSERT_TRUE(turns.insert(make_turn("c", "s_2", "t_3", 0, 3)).is_ok());
    ASSERT_TRUE(sessions.remove("c", "s_1").is_ok());
    EXPECT_EQ(sessions.get("c", "s_1").status().code(), StatusCode::kNotFound);
    EXPECT_EQ(*turns.count("c"), 1);
    EXPECT_TRUE(turns.get("c", "t_3").is_ok());
    EXPECT_EQ(sessions.remove("c", "s_1").code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace kasten::store

namespace kasten::store {
namespace {

// The key state's sums are read back only when their size is whole floats; anything else is corruption, not a key.
TEST_F(SessionStoreTest, KeyStateRoundTripsAndRejectsATornBlob) {
    SessionRecord s;
    s.id = "s_1";
    s.cube_id = "c";
    s.external_id = "chat";
    s.started_at = 1;
    ASSERT_TRUE(SessionStore(db()).insert(s).is_ok());
    SessionStore sessions(db());
    auto fresh = sessions.key_state("c", "s_1");
    ASSERT_TRUE(fresh.is_ok());
    EXPECT_FALSE(fresh->known()) << "no key state before the first append";
    SessionKeyState k;
    k.user_sum = {1.0f, -2.0f};
    k.all_sum = {0.5f, 0.25f};
    k.user_turns = 3;
    k.embedder_id = "e1";
    ASSERT_TRUE(sessions.update_key("c", "s_1", {0.6f, 0.8f}, k).is_ok());
    auto back = sessions.key_state("c", "s_1").value();
    EXPECT_EQ(back.user_sum, k.user_sum);
    EXPECT_EQ(back.all_sum, k.all_sum);
    EXPECT_EQ(back.user_turns, 3);
    EXPECT_EQ(back.embedder_id, "e1");
    EXPECT_EQ(sessions.key_state("c", "missing").status().code(), StatusCode::kNotFound);
    ASSERT_TRUE(db().exec("UPDATE sessions SET key_user_sum = x'010203' WHERE id = 's_1'").is_ok());
    EXPECT_EQ(sessions.key_state("c", "s_1").status().code(), StatusCode::kCorruption);
    // Writing a plain embedding forgets the key state (it no longer matches the vector).
    ASSERT_TRUE(sessions.update_embedding("c", "s_1", {1.0f, 0.0f}, "e2").is_ok());
    EXPECT_FALSE(sessions.key_state("c", "s_1")->known());
}

}  // namespace
}  // namespace kasten::store
