#include "store/schema.h"

#include <gtest/gtest.h>

#include <fstream>
#include <set>

#include "store/cube_store.h"
#include "store/database.h"
#include "store/job_store.h"
#include "store/session_store.h"
#include "store/turn_store.h"
#include "tests/store/store_fixture.h"
#include "tests/store/temp_dir.h"

namespace kasten::store {
namespace {

using testing::StoreFixture;
using testing::TempDir;

std::set<std::string> names_of(Database& db, const std::string& type) {
    std::set<std::string> out;
    auto s = db.prepare("SELECT name FROM sqlite_schema WHERE type = ?1 AND name NOT LIKE 'sqlite_%'");
    EXPECT_TRUE(s.is_ok());
    if (!s.is_ok()) return out;
    (*s)->bind_text(1, type);
    for (;;) {
        auto row = (*s)->step();
        EXPECT_TRUE(row.is_ok());
        if (!row.is_ok() || !*row) break;
        out.insert((*s)->column_string(0));
    }
    return out;
}

std::set<std::string> columns_of(Database& db, const std::string& table) {
    std::set<std::string> out;
    auto s = db.prepare("SELECT name FROM pragma_table_info(?1)");
    EXPECT_TRUE(s.is_ok());
    if (!s.is_ok()) return out;
    (*s)->bind_text(1, table);
    for (;;) {
        auto row = (*s)->step();
        if (!row.is_ok() || !*row) break;
        out.insert((*s)->column_string(0));
    }
    return out;
}

class SchemaTest : public StoreFixture {};

TEST_F(SchemaTest, FreshDatabaseIsAtCurrentVersionWithEveryTable) {
    auto version = schema_version(db());
    ASSERT_TRUE(version.is_ok());
    EXPECT_EQ(*version, kSchemaVersion);
    std::set<std::string> expected = {"cubes", "sessions", "turns",       "notes", "note_versions",
                                      "links", "events",   "kv_segments", "meta",  "jobs"};
    EXPECT_EQ(names_of(db(), "table"), expected);
    for (const std::string& table : expected) {
        if (table == "meta" || table == "cubes") continue;
        EXPECT_TRUE(columns_of(db(), table).count("cube_id")) << table << " has no cube_id";
    }
    std::set<std::string> indexes = names_of(db(), "index");
    for (const char* idx : {"turns_by_time", "notes_by_hash", "notes_by_status", "events_by_cube"}) {
        EXPECT_TRUE(indexes.count(idx)) << idx;
    }
    EXPECT_EQ(columns_of(db(), "notes"),
              (std::set<std::string>{"id",          "cube_id",       "content",         "kind",         "keywords",
                                     "tags",        "context",       "source_turn_ids", "valid_from",   "valid_to",
                                     "recorded_at", "superseded_at", "superseded_by",   "status",       "version",
                                     "importance",  "strength",      "last_access",     "content_hash", "embedding",
                                     "embedder_id", "updated_at"}));
}

// The query plan's detail lines, one per line.
std::string query_plan(Database& db, const std::string& sql) {
    auto s = db.prepare("EXPLAIN QUERY PLAN " + sql);
    EXPECT_TRUE(s.is_ok()) << s.status().to_string();
    if (!s.is_ok()) return "";
    std::string plan;
    for (;;) {
        auto row = (*s)->step();
        EXPECT_TRUE(row.is_ok());
        if (!row.is_ok() || !*row) break;
        plan += (*s)->column_string(3) + "\n";
    }
    return plan;
}

TEST_F(SchemaTest, TurnsByTimeQueryUsesTheIndex) {
    const std::string plan = query_plan(db(), "SELECT id FROM turns WHERE cube_id = 'c' ORDER BY conv_time");
    EXPECT_NE(plan.find("turns_by_time"), std::string::npos) << plan;
    EXPECT_EQ(plan.find("TEMP B-TREE"), std::string::npos) << plan;
}

TEST_F(SchemaTest, ClaimingTheOldestQueuedJobIsASeek) {
    const std::string plan =
        query_plan(db(), "SELECT id FROM jobs WHERE state = 'queued' ORDER BY created_at, id LIMIT 1");
    EXPECT_NE(plan.find("jobs_queue"), std::string::npos) << plan;
    EXPECT_EQ(plan.find("TEMP B-TREE"), std::string::npos) << plan;
}

TEST_F(SchemaTest, FindingASessionsQueuedJobIsASeekBySession) {
    const std::string plan = query_plan(db(), std::string("SELECT id") + JobStore::kFindQueuedFrom);
    EXPECT_NE(plan.find("jobs_by_session"), std::string::npos) << plan;
    EXPECT_EQ(plan.find("jobs_queue"), std::string::npos) << plan;
}

TEST_F(SchemaTest, MigrateIsIdempotent) {
    ASSERT_TRUE(migrate(db()).is_ok());
    ASSERT_TRUE(migrate(db()).is_ok());
    EXPECT_EQ(*schema_version(db()), kSchemaVersion);
}

TEST(SchemaFileTest, ReopeningKeepsData) {
    TempDir dir;
    ASSERT_TRUE(dir.ok());
    const std::string path = dir.file("kasten.db");
    {
        auto db = Database::open(path);
        ASSERT_TRUE(db.is_ok()) << db.status().to_string();
        ASSERT_TRUE(CubeStore(**db).create(StoreFixture::make_cube("c1")).is_ok());
        ASSERT_TRUE(SessionStore(**db).insert(StoreFixture::make_session("c1", "s1")).is_ok());
        ASSERT_TRUE(TurnStore(**db).insert(StoreFixture::make_turn("c1", "s1", "t1", 0, 10)).is_ok());
    }
    auto db = Database::open(path);
    ASSERT_TRUE(db.is_ok()) << db.status().to_string();
    EXPECT_EQ(*schema_version(**db), kSchemaVersion);
    auto turn = TurnStore(**db).get("c1", "t1");
    ASSERT_TRUE(turn.is_ok()) << turn.status().to_string();
    testing::expect_equal(*turn, StoreFixture::make_turn("c1", "s1", "t1", 0, 10));
    EXPECT_TRUE(CubeStore(**db).get("c1").is_ok());
}

TEST(SchemaFileTest, NewerSchemaIsNotSupported) {
    TempDir dir;
    ASSERT_TRUE(dir.ok());
    const std::string path = dir.file("future.db");
    {
        auto db = Database::open(path);
        ASSERT_TRUE(db.is_ok());
        ASSERT_TRUE((*db)->exec("PRAGMA user_version = 99").is_ok());
    }
    auto db = Database::open(path);
    ASSERT_FALSE(db.is_ok());
    EXPECT_EQ(db.status().code(), StatusCode::kNotSupported);
    EXPECT_NE(db.status().message().find("99"), std::string::npos) << db.status().message();
    EXPECT_NE(db.status().message().find(std::to_string(kSchemaVersion)), std::string::npos);
}

TEST(SchemaFileTest, MigratesAnEmptyExistingFile) {
    TempDir dir;
    ASSERT_TRUE(dir.ok());
    const std::string path = dir.file("empty.db");
    { std::ofstream touch(path); }
    auto db = Database::open(path);
    ASSERT_TRUE(db.is_ok()) << db.status().to_string();
    EXPECT_EQ(*schema_version(**db), kSchemaVersion);
}

}  // namespace
}  // namespace kasten::store
