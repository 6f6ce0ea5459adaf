#include "store/kv_segment_store.h"

#include <gtest/gtest.h>

#include "store/cube_store.h"
#include "tests/store/store_fixture.h"

namespace kasten::store {
namespace {

class KvSegmentStoreTest : public testing::StoreFixture {
  protected:
    void SetUp() override {
        StoreFixture::SetUp();
        ASSERT_TRUE(CubeStore(db()).create(make_cube("c")).is_ok());
        ASSERT_TRUE(CubeStore(db()).create(make_cube("other")).is_ok());
    }
};

TEST_F(KvSegmentStoreTest, PutGetRoundTripsBinaryData) {
    KvSegmentStore kv(db());
    std::string data;
    for (int i = 0; i < 1024; ++i) data.push_back(static_cast<char>(i % 256));  // includes NULs
    KvSegmentRecord seg{"c", "qwen2.5-0.5b", "abc123", 77, "kivi-q4", data, 1234};
    ASSERT_TRUE(kv.put(seg).is_ok());
    auto got = kv.get("c", "qwen2.5-0.5b", "abc123");
    ASSERT_TRUE(got.is_ok()) << got.status().to_string();
    EXPECT_EQ(got->cube_id, "c");
    EXPECT_EQ(got->model_id, seg.model_id);
    EXPECT_EQ(got->text_hash, seg.text_hash);
    EXPECT_EQ(got->n_tokens, 77);
    EXPECT_EQ(got->codec, "kivi-q4");
    EXPECT_EQ(got->data, data);
    EXPECT_EQ(got->created_at, 1234);

    KvSegmentRecord empty{"c", "m", "empty", 0, "f16", "", 1};
    ASSERT_TRUE(kv.put(empty).is_ok());
    auto got_empty = kv.get("c", "m", "empty");
    ASSERT_TRUE(got_empty.is_ok());
    EXPECT_TRUE(got_empty->data.empty());
}

TEST_F(KvSegmentStoreTest, PutReplacesAndKeysAreScoped) {
    KvSegmentStore kv(db());
    ASSERT_TRUE(kv.put({"c", "m", "h", 1, "f16", "old", 1}).is_ok());
    ASSERT_TRUE(kv.put({"c", "m", "h", 2, "f16", "new", 2}).is_ok());
    ASSERT_TRUE(kv.put({"other", "m", "h", 3, "f16", "theirs", 3}).is_ok());
    EXPECT_EQ(kv.get("c", "m", "h")->data, "new");
    EXPECT_EQ(kv.get("other", "m", "h")->data, "theirs");
    EXPECT_EQ(kv.get("c", "m2", "h").status().code(), StatusCode::kNotFound);
    EXPECT_EQ(kv.put({"nope", "m", "h", 1, "f16", "x", 1}).code(), StatusCode::kNotFound);
}

TEST_F(KvSegmentStoreTest, ListAndRemove) {
    KvSegmentStore kv(db());
    ASSERT_TRUE(kv.put({"c", "m2", "a", 5, "f16", "xx", 1}).is_ok());
    ASSERT_TRUE(kv.put({"c", "m1", "b", 6, "q8", "yyyy", 2}).is_ok());
    ASSERT_TRUE(kv.put({"other", "m1", "z", 6, "q8", "zz", 2}).is_ok());
    auto list = kv.list("c");
    ASSERT_TRUE(list.is_ok());
    ASSERT_EQ(list->size(), 2u);
    EXPECT_EQ((*list)[0].model_id, "m1");
    EXPECT_EQ((*list)[0].text_hash, "b");
    EXPECT_EQ((*list)[0].n_tokens, 6);
    EXPECT_EQ((*list)[0].codec, "q8");
    EXPECT_EQ((*list)[0].created_at, 2);
    EXPECT_TRUE((*list)[0].data.empty());  // metadata only
    EXPECT_EQ((*list)[1].model_id, "m2");
    EXPECT_EQ(kv.remove("other", "m2", "a").code(), StatusCode::kNotFound);
    ASSERT_TRUE(kv.remove("c", "m2", "a").is_ok());
    EXPECT_EQ(kv.remove("c", "m2", "a").code(), StatusCode::kNotFound);
    EXPECT_EQ(kv.list("c")->size(), 1u);
    EXPECT_EQ(kv.list("other")->size(), 1u);
}

TEST_F(KvSegmentStoreTest, RemoveOtherTextsKeepsOneTextOfOneModelInOneCube) {
    KvSegmentStore kv(db());
    ASSERT_TRUE(kv.put({"c", "m", "old1", 1, "f16", "a", 1}).is_ok());
    ASSERT_TRUE(kv.put({"c", "m", "old2", 1, "f16", "b", 1}).is_ok());
    ASSERT_TRUE(kv.put({"c", "m", "new", 1, "f16", "c", 1}).is_ok());
    ASSERT_TRUE(kv.put({"c", "m2", "old1", 1, "f16", "d", 1}).is_ok());
    ASSERT_TRUE(kv.put({"other", "m", "old1", 1, "f16", "e", 1}).is_ok());
    auto removed = kv.remove_other_texts("c", "m", "new");
    ASSERT_TRUE(removed.is_ok()) << removed.status().to_string();
    EXPECT_EQ(removed.value(), 2);
    EXPECT_TRUE(kv.get("c", "m", "new").is_ok());
    EXPECT_EQ(kv.get("c", "m", "old1").status().code(), StatusCode::kNotFound);
    EXPECT_TRUE(kv.get("c", "m2", "old1").is_ok());
    EXPECT_TRUE(kv.get("other", "m", "old1").is_ok());
    EXPECT_EQ(kv.remove_other_texts("c", "m", "new").value(), 0);
}

}  // namespace
}  // namespace kasten::store
