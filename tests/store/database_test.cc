#include "store/database.h"

#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <vector>

#include "store/schema.h"
#include "tests/store/store_fixture.h"
#include "tests/store/temp_dir.h"

namespace kasten::store {
namespace {

using testing::StoreFixture;
using testing::TempDir;

std::string pragma_text(Database& db, const std::string& pragma) {
    auto s = db.prepare("PRAGMA " + pragma);
    if (!s.is_ok()) return "error: " + s.status().to_string();
    auto row = (*s)->step();
    if (!row.is_ok() || !*row) return "no row";
    return (*s)->column_string(0);
}

TEST(DatabaseOpenTest, InMemoryIsConfiguredAndMigrated) {
    auto db = Database::open(":memory:");
    ASSERT_TRUE(db.is_ok()) << db.status().to_string();
    EXPECT_TRUE((*db)->is_memory());
    EXPECT_EQ(pragma_text(**db, "foreign_keys"), "1");
    EXPECT_EQ(pragma_text(**db, "synchronous"), "1");  // NORMAL
    EXPECT_EQ(pragma_text(**db, "busy_timeout"), "5000");
    auto version = schema_version(**db);
    ASSERT_TRUE(version.is_ok());
    EXPECT_EQ(*version, kSchemaVersion);
    EXPECT_FALSE((*db)->in_transaction());
    EXPECT_EQ((*db)->transaction_depth(), 0);
}

// Every row of the schema table: what a database's migrations created.
std::vector<std::string> schema_rows(Database& db) {
    std::vector<std::string> rows;
    auto s = db.prepare("SELECT type || ' ' || name || ' ' || ifnull(sql, '') FROM sqlite_schema ORDER BY name");
    EXPECT_TRUE(s.is_ok());
    if (!s.is_ok()) return rows;
    for (;;) {
        auto row = (*s)->step();
        EXPECT_TRUE(row.is_ok());
        if (!row.is_ok() || !*row) break;
        rows.push_back((*s)->column_string(0));
    }
    return rows;
}

TEST(DatabaseOpenTest, InMemoryDatabasesStartFromTheMigratedSchemaAndAreSeparate) {
    // In-memory databases start as a copy of one migrated image: the same schema as a file database's migrations
    // give, and each its own.
    TempDir dir;
    ASSERT_TRUE(dir.ok());
    auto file = Database::open(dir.file("kasten.db"));
    auto a = Database::open(":memory:");
    auto b = Database::open(":memory:");
    ASSERT_TRUE(file.is_ok() && a.is_ok() && b.is_ok());
    const auto expected = schema_rows(**file);
    EXPECT_GT(expected.size(), 10u);
    EXPECT_EQ(schema_rows(**a), expected);
    ASSERT_TRUE((*a)->exec("INSERT INTO cubes (id, name, created_at) VALUES ('c', 'c', 1)").is_ok());
    auto count = [](Database& db) {
        auto s = db.prepare("SELECT count(*) FROM cubes");
        EXPECT_TRUE(s.is_ok());
        EXPECT_TRUE((*s)->step().is_ok());
        return (*s)->column_int(0);
    };
    EXPECT_EQ(count(**a), 1);
    EXPECT_EQ(count(**b), 0);
    EXPECT_EQ(schema_rows(**b), expected);
    // Foreign keys are enforced in each (a connection setting, not part of the image).
    EXPECT_FALSE(
        (*b)->exec("INSERT INTO sessions (id, cube_id, external_id, started_at) VALUES ('s', 'x', 'e', 1)").is_ok());
}

TEST(DatabaseOpenTest, FileDatabaseUsesWal) {
    TempDir dir;
    ASSERT_TRUE(dir.ok());
    auto db = Database::open(dir.file("kasten.db"));
    ASSERT_TRUE(db.is_ok()) << db.status().to_string();
    EXPECT_FALSE((*db)->is_memory());
    EXPECT_EQ(pragma_text(**db, "journal_mode"), "wal");
    EXPECT_EQ(pragma_text(**db, "synchronous"), "1");
    EXPECT_EQ(pragma_text(**db, "foreign_keys"), "1");
    EXPECT_EQ((*db)->path(), dir.file("kasten.db"));
}

TEST(DatabaseOpenTest, BadPathsFail) {
    EXPECT_EQ(Database::open("").status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(Database::open(std::string("a\0b", 3)).status().code(), StatusCode::kInvalidArgument);
    TempDir dir;
    ASSERT_TRUE(dir.ok());
    auto missing_dir = Database::open(dir.file("no/such/dir/kasten.db"));
    EXPECT_EQ(missing_dir.status().code(), StatusCode::kIOError) << missing_dir.status().to_string();
}

TEST(DatabaseOpenTest, NotADatabaseIsCorruption) {
    TempDir dir;
    ASSERT_TRUE(dir.ok());
    {
        std::ofstream out(dir.file("garbage.db"), std::ios::binary);
        out << std::string(8192, 'x');
    }
    auto db = Database::open(dir.file("garbage.db"));
    EXPECT_EQ(db.status().code(), StatusCode::kCorruption) << db.status().to_string();
}

class DatabaseTest : public StoreFixture {};

TEST_F(DatabaseTest, PrepareCachesStatements) {
    const std::size_t before = db().cached_statement_count();
    for (int i = 0; i < 3; ++i) {
        auto s = db().prepare("SELECT 1 + ?1");
        ASSERT_TRUE(s.is_ok());
        (*s)->bind_int64(1, i);
        auto row = (*s)->step();
        ASSERT_TRUE(row.is_ok() && *row);
        EXPECT_EQ((*s)->column_int(0), 1 + i);
        // Left mid-result on purpose: the lease resets it on destruction.
    }
    EXPECT_EQ(db().cached_statement_count(), before + 1);
}

TEST_F(DatabaseTest, ReentrantPrepareOfTheSameSqlGetsItsOwnStatement) {
    ASSERT_TRUE(db().exec("CREATE TEMP TABLE n (v INTEGER); INSERT INTO n VALUES (1), (2), (3);").is_ok());
    const char* sql = "SELECT v FROM n ORDER BY v";
    auto outer = db().prepare(sql);
    ASSERT_TRUE(outer.is_ok());
    int outer_rows = 0;
    for (;;) {
        auto row = (*outer)->step();
        ASSERT_TRUE(row.is_ok());
        if (!*row) break;
        ++outer_rows;
        auto inner = db().prepare(sql);  // same SQL while the cached one is leased
        ASSERT_TRUE(inner.is_ok());
        int inner_rows = 0;
        for (;;) {
            auto r = (*inner)->step();
            ASSERT_TRUE(r.is_ok());
            if (!*r) break;
            ++inner_rows;
        }
        EXPECT_EQ(inner_rows, 3);
        EXPECT_EQ((*outer)->column_int(0), outer_rows);  // the outer cursor was not disturbed
    }
    EXPECT_EQ(outer_rows, 3);
}

TEST_F(DatabaseTest, PrepareErrors) {
    EXPECT_EQ(db().prepare("SELEC 1").status().code(), StatusCode::kInternal);
    EXPECT_EQ(db().prepare("SELECT 1; SELECT 2").status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(db().prepare("   ").status().code(), StatusCode::kInvalidArgument);
    EXPECT_TRUE(db().prepare("SELECT 1;  \n").is_ok());
    EXPECT_EQ(db().prepare("SELECT * FROM no_such_table").status().code(), StatusCode::kInternal);
}

TEST_F(DatabaseTest, ConstraintErrorsMapToStatusCodes) {
    ASSERT_TRUE(db().exec("CREATE TEMP TABLE c (k TEXT PRIMARY KEY, u TEXT UNIQUE, nn TEXT NOT NULL, "
                          "pos INTEGER CHECK (pos > 0))")
                    .is_ok());
    ASSERT_TRUE(db().exec("INSERT INTO c VALUES ('a', 'x', 'v', 1)").is_ok());
    EXPECT_EQ(db().exec("INSERT INTO c VALUES ('a', 'y', 'v', 1)").code(), StatusCode::kAlreadyExists);
    EXPECT_EQ(db().exec("INSERT INTO c VALUES ('b', 'x', 'v', 1)").code(), StatusCode::kAlreadyExists);
    EXPECT_EQ(db().exec("INSERT INTO c VALUES ('b', 'y', NULL, 1)").code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(db().exec("INSERT INTO c VALUES ('b', 'y', 'v', 0)").code(), StatusCode::kInvalidArgument);
    // Foreign keys are enforced: a session of a cube that does not exist.
    Status fk = db().exec("INSERT INTO sessions (id, cube_id, external_id, started_at) VALUES ('s', 'nope', 'e', 0)");
    EXPECT_EQ(fk.code(), StatusCode::kInvalidArgument) << fk.to_string();
    EXPECT_EQ(db().exec("SELEC").code(), StatusCode::kInternal);
}

TEST_F(DatabaseTest, ChangesAndRowid) {
    ASSERT_TRUE(db().exec("CREATE TEMP TABLE r (v INTEGER); INSERT INTO r VALUES (1), (2), (3);").is_ok());
    EXPECT_EQ(db().changes(), 3);
    ASSERT_TRUE(db().exec("INSERT INTO r VALUES (4)").is_ok());
    EXPECT_EQ(db().last_insert_rowid(), 4);
    ASSERT_TRUE(db().exec("DELETE FROM r WHERE v > 1").is_ok());
    EXPECT_EQ(db().changes(), 3);
}

TEST(DatabaseLockTest, SecondWriterGetsBusy) {
    TempDir dir;
    ASSERT_TRUE(dir.ok());
    auto a = Database::open(dir.file("k.db"));
    auto b = Database::open(dir.file("k.db"));
    ASSERT_TRUE(a.is_ok() && b.is_ok());
    ASSERT_TRUE((*b)->set_busy_timeout(20).is_ok());
    Transaction ta(**a);
    ASSERT_TRUE(ta.begin().is_ok());
    ASSERT_TRUE((*a)->exec("INSERT INTO meta (key, value) VALUES ('k', 'a')").is_ok());

    Transaction tb(**b);
    Status busy = tb.begin();
    EXPECT_EQ(busy.code(), StatusCode::kBusy) << busy.to_string();
    EXPECT_FALSE(tb.active());
    EXPECT_EQ((*b)->exec("INSERT INTO meta (key, value) VALUES ('k2', 'b')").code(), StatusCode::kBusy);

    // Readers are not blocked in WAL mode and see the last committed state.
    EXPECT_EQ(pragma_text(**b, "user_version"), std::to_string(kSchemaVersion));
    ASSERT_TRUE(ta.commit().is_ok());
    ASSERT_TRUE(tb.begin().is_ok());
    ASSERT_TRUE((*b)->exec("INSERT INTO meta (key, value) VALUES ('k2', 'b')").is_ok());
    ASSERT_TRUE(tb.commit().is_ok());
}

}  // namespace
}  // namespace kasten::store

namespace kasten::store {
namespace {

// A database that cannot grow (SQLITE_FULL, as on a full disk) answers kInsufficientStorage — HTTP 507, retryable —
// not kResourceExhausted (413, "request too large"), and keeps what it had.
TEST(DatabaseFullTest, AFullDatabaseIsInsufficientStorage) {
    TempDir dir;
    ASSERT_TRUE(dir.ok());
    auto db = Database::open(dir.file("kasten.db"));
    ASSERT_TRUE(db.is_ok()) << db.status().to_string();
    ASSERT_TRUE((*db)->exec("CREATE TABLE ballast (b BLOB)").is_ok());
    ASSERT_TRUE((*db)->exec("INSERT INTO ballast VALUES (zeroblob(1000))").is_ok());
    std::int64_t used = 0;
    {
        auto pages = (*db)->prepare("PRAGMA page_count");
        ASSERT_TRUE(pages.is_ok());
        ASSERT_TRUE(*(*pages)->step());
        used = (*pages)->column_int64(0);
    }
    ASSERT_TRUE((*db)->exec("PRAGMA max_page_count = " + std::to_string(used + 2)).is_ok());
    Status st = (*db)->exec("INSERT INTO ballast VALUES (zeroblob(1000000))");
    EXPECT_EQ(st.code(), StatusCode::kInsufficientStorage) << st.to_string();
    EXPECT_TRUE((*db)->exec("INSERT INTO ballast VALUES (zeroblob(10))").is_ok()) << "small writes still fit";
}

}  // namespace
}  // namespace kasten::store
