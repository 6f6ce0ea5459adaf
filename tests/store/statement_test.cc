#include "store/statement.h"

#include <gtest/gtest.h>

#include <bit>
#include <cstdint>
#include <limits>

#include "store/database.h"
#include "tests/store/store_fixture.h"

namespace kasten::store {
namespace {

class StatementTest : public testing::StoreFixture {
  protected:
    void SetUp() override {
        StoreFixture::SetUp();
        ASSERT_TRUE(db().exec("CREATE TEMP TABLE t (i INTEGER, d REAL, s TEXT, b BLOB)").is_ok());
    }
};

TEST_F(StatementTest, BindsAndReadsEveryType) {
    const std::string text = "it's \"quoted\" — ünïcödé 🚀";
    const std::string blob("\x00\x01\xff\x00", 4);
    {
        auto ins = db().prepare("INSERT INTO t (i, d, s, b) VALUES (?1, ?2, ?3, ?4)");
        ASSERT_TRUE(ins.is_ok()) << ins.status().to_string();
        (*ins)->bind_int64(1, std::numeric_limits<std::int64_t>::min());
        (*ins)->bind_double(2, -0.1);
        (*ins)->bind_text_ref(3, text);
        (*ins)->bind_blob(4, blob.data(), blob.size());
        ASSERT_TRUE((*ins)->run().is_ok());
    }
    auto sel = db().prepare("SELECT i, d, s, b FROM t");
    ASSERT_TRUE(sel.is_ok());
    Statement& s = **sel;
    auto row = s.step();
    ASSERT_TRUE(row.is_ok() && *row);
    EXPECT_EQ(s.column_count(), 4);
    EXPECT_EQ(s.column_int64(0), std::numeric_limits<std::int64_t>::min());
    EXPECT_EQ(std::bit_cast<std::uint64_t>(s.column_double(1)), std::bit_cast<std::uint64_t>(-0.1));
    EXPECT_EQ(s.column_text(2), text);
    EXPECT_EQ(s.column_blob(3), blob);
    EXPECT_FALSE(s.column_is_null(0));
    row = s.step();
    ASSERT_TRUE(row.is_ok());
    EXPECT_FALSE(*row);
}

TEST_F(StatementTest, NullsEmptiesAndOptionals) {
    {
        auto ins = db().prepare("INSERT INTO t (i, d, s, b) VALUES (?1, ?2, ?3, ?4)");
        ASSERT_TRUE(ins.is_ok());
        (*ins)->bind_optional_int64(1, std::nullopt);
        (*ins)->bind_null(2);
        (*ins)->bind_text(3, std::string_view());  // empty, not NULL
        (*ins)->bind_blob(4, nullptr, 0);          // empty blob, not NULL
        ASSERT_TRUE((*ins)->run().is_ok());
    }
    auto sel = db().prepare("SELECT i, d, s IS NULL, b IS NULL, length(b), typeof(b) FROM t");
    ASSERT_TRUE(sel.is_ok());
    auto row = (*sel)->step();
    ASSERT_TRUE(row.is_ok() && *row);
    EXPECT_TRUE((*sel)->column_is_null(0));
    EXPECT_EQ((*sel)->column_optional_int64(0), std::nullopt);
    EXPECT_TRUE((*sel)->column_is_null(1));
    EXPECT_EQ((*sel)->column_int(2), 0);
    EXPECT_EQ((*sel)->column_int(3), 0);
    EXPECT_EQ((*sel)->column_int(4), 0);
    EXPECT_EQ((*sel)->column_text(5), "blob");
}

TEST_F(StatementTest, TextWithNulIsRejectedAtStep) {
    auto ins = db().prepare("INSERT INTO t (s) VALUES (?1)");
    ASSERT_TRUE(ins.is_ok());
    const std::string bad("a\0b", 3);
    (*ins)->bind_text_ref(1, bad);
    Status st = (*ins)->run();
    EXPECT_EQ(st.code(), StatusCode::kInvalidArgument) << st.to_string();
    (*ins)->reset();  // clears the deferred error
    (*ins)->bind_text(1, "ok");
    EXPECT_TRUE((*ins)->run().is_ok());
    auto sel = db().prepare("SELECT group_concat(s) FROM t");
    ASSERT_TRUE(sel.is_ok());
    ASSERT_TRUE((*sel)->step().is_ok());
    EXPECT_EQ((*sel)->column_text(0), "ok");  // the rejected row was never written
}

TEST_F(StatementTest, BindIndexOutOfRangeIsInvalidArgument) {
    auto ins = db().prepare("INSERT INTO t (i) VALUES (?1)");
    ASSERT_TRUE(ins.is_ok());
    (*ins)->bind_int64(5, 1);
    EXPECT_EQ((*ins)->run().code(), StatusCode::kInvalidArgument);
}

TEST_F(StatementTest, ResetClearsBindings) {
    auto ins = db().prepare("INSERT INTO t (i) VALUES (?1)");
    ASSERT_TRUE(ins.is_ok());
    (*ins)->bind_int64(1, 42);
    ASSERT_TRUE((*ins)->run().is_ok());
    (*ins)->reset();
    ASSERT_TRUE((*ins)->run().is_ok());  // parameter now NULL
    auto sel = db().prepare("SELECT COUNT(*), COUNT(i) FROM t");
    ASSERT_TRUE(sel.is_ok());
    ASSERT_TRUE((*sel)->step().is_ok());
    EXPECT_EQ((*sel)->column_int(0), 2);
    EXPECT_EQ((*sel)->column_int(1), 1);
    EXPECT_EQ((*sel)->sql(), "SELECT COUNT(*), COUNT(i) FROM t");
}

}  // namespace
}  // namespace kasten::store
