#include "store/meta_store.h"

#include <gtest/gtest.h>

#include "tests/store/store_fixture.h"

namespace kasten::store {
namespace {

class MetaStoreTest : public testing::StoreFixture {};

TEST_F(MetaStoreTest, GetSetOverwrite) {
    MetaStore meta(db());
    auto missing = meta.get("index.watermark");
    ASSERT_TRUE(missing.is_ok());
    EXPECT_FALSE(missing->has_value());
    ASSERT_TRUE(meta.set("index.watermark", "42").is_ok());
    EXPECT_EQ(*meta.get("index.watermark"), "42");
    ASSERT_TRUE(meta.set("index.watermark", "'); DROP TABLE turns;-- \"ü\"").is_ok());
    EXPECT_EQ(*meta.get("index.watermark"), "'); DROP TABLE turns;-- \"ü\"");
    ASSERT_TRUE(meta.set("empty", "").is_ok());
    auto empty = meta.get("empty");
    ASSERT_TRUE(empty.is_ok() && empty->has_value());
    EXPECT_EQ(**empty, "");
    EXPECT_EQ(meta.set(std::string("k\0", 2), "v").code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace kasten::store
