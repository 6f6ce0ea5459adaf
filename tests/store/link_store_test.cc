#include "store/link_store.h"

#include <gtest/gtest.h>

#include "store/cube_store.h"
#include "store/note_store.h"
#include "tests/store/store_fixture.h"

namespace kasten::store {
namespace {

class LinkStoreTest : public testing::StoreFixture {
  protected:
    void SetUp() override {
        StoreFixture::SetUp();
        for (const char* cube : {"c", "other"}) ASSERT_TRUE(CubeStore(db()).create(make_cube(cube)).is_ok());
        NoteStore notes(db());
        for (const char* id : {"n_1", "n_2", "n_3"}) ASSERT_TRUE(notes.insert(make_note("c", id)).is_ok());
        ASSERT_TRUE(notes.insert(make_note("other", "n_x")).is_ok());
    }

    static void expect_link(const LinkRecord& a, const LinkRecord& b) {
        EXPECT_EQ(a.cube_id, b.cube_id);
        EXPECT_EQ(a.src_note_id, b.src_note_id);
        EXPECT_EQ(a.dst_note_id, b.dst_note_id);
        EXPECT_EQ(a.relation, b.relation);
        EXPECT_EQ(a.weight, b.weight);
        EXPECT_EQ(a.reason, b.reason);
        EXPECT_EQ(a.created_at, b.created_at);
    }
};

TEST_F(LinkStoreTest, UpsertRoundTripsAndUpdatesInPlace) {
    LinkStore links(db());
    LinkRecord l{"c", "n_1", "n_2", "supports", 0.625, "it's \"because\" '); DROP TABLE turns;--", 123};
    ASSERT_TRUE(links.upsert(l).is_ok());
    auto all = links.list("c");
    ASSERT_TRUE(all.is_ok());
    ASSERT_EQ(all->size(), 1u);
    expect_link((*all)[0], l);

    LinkRecord again = l;
    again.weight = 0.25;
    again.reason = "revised";
    again.created_at = 999;
    ASSERT_TRUE(links.upsert(again).is_ok());
    all = links.list("c");
    ASSERT_EQ(all->size(), 1u);
    EXPECT_EQ((*all)[0].weight, 0.25);
    EXPECT_EQ((*all)[0].reason, "revised");
    EXPECT_EQ((*all)[0].created_at, 123);  // first creation time kept

    // Another relation between the same notes is another link.
    ASSERT_TRUE(links.upsert({"c", "n_1", "n_2", "related", 1.0, "", 124}).is_ok());
    EXPECT_EQ(links.list("c")->size(), 2u);
}

TEST_F(LinkStoreTest, RejectsMissingForeignAndSelfLinks) {
    LinkStore links(db());
    EXPECT_EQ(links.upsert({"c", "n_1", "n_nope", "related", 1.0, "", 1}).code(), StatusCode::kNotFound);
    EXPECT_EQ(links.upsert({"c", "n_nope", "n_1", "related", 1.0, "", 1}).code(), StatusCode::kNotFound);
    EXPECT_EQ(links.upsert({"c", "n_1", "n_x", "related", 1.0, "", 1}).code(), StatusCode::kNotFound);  // cross-cube
    EXPECT_EQ(links.upsert({"other", "n_1", "n_2", "related", 1.0, "", 1}).code(), StatusCode::kNotFound);
    EXPECT_EQ(links.upsert({"c", "n_1", "n_1", "related", 1.0, "", 1}).code(), StatusCode::kInvalidArgument);
    EXPECT_TRUE(links.list("c")->empty());
    EXPECT_TRUE(links.list("other")->empty());
}

TEST_F(LinkStoreTest, ListForNoteSeesBothEnds) {
    LinkStore links(db());
    ASSERT_TRUE(links.upsert({"c", "n_1", "n_2", "related", 1.0, "", 3}).is_ok());
    ASSERT_TRUE(links.upsert({"c", "n_3", "n_1", "updates", 1.0, "", 1}).is_ok());
    ASSERT_TRUE(links.upsert({"c", "n_2", "n_3", "follows", 1.0, "", 2}).is_ok());
    auto for_1 = links.list_for_note("c", "n_1");
    ASSERT_TRUE(for_1.is_ok()) << for_1.status().to_string();
    ASSERT_EQ(for_1->size(), 2u);
    EXPECT_EQ((*for_1)[0].src_note_id, "n_3");  // created_at 1
    EXPECT_EQ((*for_1)[1].dst_note_id, "n_2");  // created_at 3
    EXPECT_TRUE(links.list_for_note("other", "n_1")->empty());
    auto all = links.list("c");
    ASSERT_EQ(all->size(), 3u);
    EXPECT_EQ((*all)[0].relation, "updates");
    EXPECT_EQ((*all)[1].relation, "follows");
    EXPECT_EQ((*all)[2].relation, "related");
}

TEST_F(LinkStoreTest, Remove) {
    LinkStore links(db());
    ASSERT_TRUE(links.upsert({"c", "n_1", "n_2", "related", 1.0, "", 1}).is_ok());
    EXPECT_EQ(links.remove("other", "n_1", "n_2", "related").code(), StatusCode::kNotFound);
    EXPECT_EQ(links.remove("c", "n_2", "n_1", "related").code(), StatusCode::kNotFound);  // direction matters
    EXPECT_EQ(links.remove("c", "n_1", "n_2", "supports").code(), StatusCode::kNotFound);
    ASSERT_TRUE(links.remove("c", "n_1", "n_2", "related").is_ok());
    EXPECT_TRUE(links.list("c")->empty());
}

}  // namespace
}  // namespace kasten::store
