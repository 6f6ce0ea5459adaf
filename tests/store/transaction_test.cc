#include "store/transaction.h"

#include <gtest/gtest.h>

#include <optional>

#include "store/database.h"
#include "store/meta_store.h"
#include "store/note_store.h"
#include "tests/store/store_fixture.h"

namespace kasten::store {
namespace {

class TransactionTest : public testing::StoreFixture {
  protected:
    std::optional<std::string> meta(const std::string& key) {
        auto v = MetaStore(db()).get(key);
        EXPECT_TRUE(v.is_ok());
        return v.is_ok() ? *v : std::nullopt;
    }
    void set(const std::string& key, const std::string& value) { ASSERT_TRUE(MetaStore(db()).set(key, value).is_ok()); }
};

TEST_F(TransactionTest, CommitKeepsWork) {
    Transaction tx(db());
    ASSERT_TRUE(tx.begin().is_ok());
    EXPECT_TRUE(tx.active());
    EXPECT_FALSE(tx.nested());
    EXPECT_TRUE(db().in_transaction());
    set("a", "1");
    ASSERT_TRUE(tx.commit().is_ok());
    EXPECT_FALSE(tx.active());
    EXPECT_FALSE(db().in_transaction());
    EXPECT_EQ(meta("a"), "1");
}

TEST_F(TransactionTest, DestructionRollsBack) {
    {
        Transaction tx(db());
        ASSERT_TRUE(tx.begin().is_ok());
        set("a", "1");
        EXPECT_EQ(meta("a"), "1");  // visible inside
    }
    EXPECT_FALSE(db().in_transaction());
    EXPECT_EQ(db().transaction_depth(), 0);
    EXPECT_EQ(meta("a"), std::nullopt);
}

TEST_F(TransactionTest, ExplicitRollback) {
    Transaction tx(db());
    ASSERT_TRUE(tx.begin().is_ok());
    set("a", "1");
    ASSERT_TRUE(tx.rollback().is_ok());
    EXPECT_FALSE(tx.active());
    EXPECT_EQ(meta("a"), std::nullopt);
    EXPECT_EQ(tx.commit().code(), StatusCode::kFailedPrecondition);
    EXPECT_EQ(tx.rollback().code(), StatusCode::kFailedPrecondition);
    // A Transaction object can be begun again after it ended.
    ASSERT_TRUE(tx.begin().is_ok());
    set("b", "2");
    ASSERT_TRUE(tx.commit().is_ok());
    EXPECT_EQ(meta("b"), "2");
}

TEST_F(TransactionTest, MisuseIsReported) {
    Transaction tx(db());
    EXPECT_EQ(tx.commit().code(), StatusCode::kFailedPrecondition);
    ASSERT_TRUE(tx.begin().is_ok());
    EXPECT_EQ(tx.begin().code(), StatusCode::kFailedPrecondition);
    ASSERT_TRUE(tx.commit().is_ok());

    // A transaction opened behind Transaction's back.
    ASSERT_TRUE(db().exec("BEGIN").is_ok());
    Transaction other(db());
    EXPECT_EQ(other.begin().code(), StatusCode::kFailedPrecondition);
    ASSERT_TRUE(db().exec("ROLLBACK").is_ok());
}

TEST_F(TransactionTest, NestedCommitJoinsTheOuterTransaction) {
    Transaction outer(db());
    ASSERT_TRUE(outer.begin().is_ok());
    set("outer", "1");
    {
        Transaction inner(db());
        ASSERT_TRUE(inner.begin().is_ok());
        EXPECT_TRUE(inner.nested());
        EXPECT_EQ(db().transaction_depth(), 2);
        set("inner", "1");
        ASSERT_TRUE(inner.commit().is_ok());
    }
    EXPECT_EQ(db().transaction_depth(), 1);
    EXPECT_TRUE(db().in_transaction());
    ASSERT_TRUE(outer.rollback().is_ok());
    // The inner commit only released its savepoint: the outer rollback discards both.
    EXPECT_EQ(meta("outer"), std::nullopt);
    EXPECT_EQ(meta("inner"), std::nullopt);
}

TEST_F(TransactionTest, NestedRollbackKeepsOuterWork) {
    Transaction outer(db());
    ASSERT_TRUE(outer.begin().is_ok());
    set("outer", "1");
    {
        Transaction inner(db());
        ASSERT_TRUE(inner.begin().is_ok());
        set("inner", "1");
        set("outer", "changed");
        // destroyed without commit
    }
    EXPECT_TRUE(db().in_transaction());
    EXPECT_EQ(meta("outer"), "1");
    EXPECT_EQ(meta("inner"), std::nullopt);
    ASSERT_TRUE(outer.commit().is_ok());
    EXPECT_EQ(meta("outer"), "1");
    EXPECT_EQ(meta("inner"), std::nullopt);
}

TEST_F(TransactionTest, ThreeLevelsAndOutOfOrderCommit) {
    Transaction t1(db());
    Transaction t2(db());
    Transaction t3(db());
    ASSERT_TRUE(t1.begin().is_ok());
    set("1", "x");
    ASSERT_TRUE(t2.begin().is_ok());
    set("2", "x");
    ASSERT_TRUE(t3.begin().is_ok());
    set("3", "x");
    EXPECT_EQ(db().transaction_depth(), 3);
    EXPECT_EQ(t1.commit().code(), StatusCode::kFailedPrecondition);  // inner ones still open
    EXPECT_EQ(t2.commit().code(), StatusCode::kFailedPrecondition);
    ASSERT_TRUE(t3.commit().is_ok());
    ASSERT_TRUE(t2.rollback().is_ok());  // discards "2" and "3"
    ASSERT_TRUE(t1.commit().is_ok());
    EXPECT_EQ(meta("1"), "x");
    EXPECT_EQ(meta("2"), std::nullopt);
    EXPECT_EQ(meta("3"), std::nullopt);
}

TEST_F(TransactionTest, OuterRollbackWhileInnerOpenEndsBoth) {
    Transaction outer(db());
    ASSERT_TRUE(outer.begin().is_ok());
    Transaction inner(db());
    ASSERT_TRUE(inner.begin().is_ok());
    set("k", "v");
    ASSERT_TRUE(outer.rollback().is_ok());
    EXPECT_FALSE(db().in_transaction());
    EXPECT_EQ(db().transaction_depth(), 0);
    EXPECT_TRUE(inner.rollback().is_ok());  // already rolled back by the outer one; a no-op
    EXPECT_EQ(meta("k"), std::nullopt);
}

TEST_F(TransactionTest, RepositoryWritesJoinTheCallersTransaction) {
    // NoteStore::insert is atomic by itself (a savepoint here), but belongs to the caller's transaction.
    seed("c", "s");
    {
        Transaction tx(db());
        ASSERT_TRUE(tx.begin().is_ok());
        ASSERT_TRUE(NoteStore(db()).insert(make_note("c", "n1")).is_ok());
        EXPECT_EQ(db().transaction_depth(), 1);
    }
    EXPECT_EQ(NoteStore(db()).get("c", "n1").status().code(), StatusCode::kNotFound);
    EXPECT_EQ(testing::count_rows(db(), "note_versions", "c"), 0);
}

}  // namespace
}  // namespace kasten::store
