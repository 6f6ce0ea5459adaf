#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "store/cube_store.h"
#include "store/database.h"
#include "store/note_store.h"
#include "store/records.h"
#include "store/session_store.h"
#include "store/turn_store.h"

namespace kasten::store::testing {

// An in-memory database plus builders for fully-populated records.
class StoreFixture : public ::testing::Test {
  protected:
    void SetUp() override {
        auto db = Database::open(":memory:");
        ASSERT_TRUE(db.is_ok()) << db.status().to_string();
        db_ = std::move(db).value();
    }

    Database& db() { return *db_; }

  public:
    // Record builders, also used by tests that open their own Database.
    static CubeRecord make_cube(const std::string& id) {
        CubeRecord c;
        c.id = id;
        c.name = "Cube " + id;
        c.embedder_id = "";
        c.created_at = 1700000000123;
        c.metadata_json = R"({"owner":"u"})";
        return c;
    }

    static SessionRecord make_session(const std::string& cube, const std::string& id, TimeMs started = 1000) {
        SessionRecord s;
        s.id = id;
        s.cube_id = cube;
        s.external_id = "ext-" + id;
        s.started_at = started;
        s.summary = "summary of " + id;
        s.embedding = {0.5f, -1.25f, 3.0f};
        s.embedder_id = "emb-1";
        return s;
    }

    static TurnRecord make_turn(const std::string& cube, const std::string& session, const std::string& id, int index,
                                TimeMs conv_time) {
        TurnRecord t;
        t.id = id;
        t.cube_id = cube;
        t.session_id = session;
        t.index = index;
        t.role = index % 2 == 0 ? "user" : "assistant";
        t.content = "content of " + id;
        t.conv_time = conv_time;
        t.ingested_at = conv_time + 7;
        t.embedding = {1.0f, 2.0f};
        t.embedder_id = "emb-1";
        return t;
    }

    static NoteRecord make_note(const std::string& cube, const std::string& id, TimeMs recorded_at = 5000) {
        NoteRecord n;
        n.id = id;
        n.cube_id = cube;
        n.content = "Alice likes \"green\" tea; id=" + id;
        n.kind = "preference";
        n.keywords = {"alice", "tea"};
        n.tags = {"food", "drink"};
        n.context = "Alice talks about drinks";
        n.source_turn_ids = {"t_1", "t_2"};
        n.valid_from = 1000;
        n.valid_to = std::nullopt;
        n.recorded_at = recorded_at;
        n.superseded_at = std::nullopt;
        n.superseded_by = "";
        n.status = NoteStatus::kActive;
        n.version = 1;
        n.importance = 0.75;
        n.strength = 1.5;
        n.last_access = recorded_at;
        n.content_hash = "hash-" + id;
        n.embedding = {0.1f, 0.2f, 0.3f};
        n.embedder_id = "emb-1";
        n.updated_at = recorded_at;
        return n;
    }

  protected:
    // Creates cube `cube` with one session `session`.
    void seed(const std::string& cube, const std::string& session) {
        ASSERT_TRUE(CubeStore(db()).create(make_cube(cube)).is_ok());
        ASSERT_TRUE(SessionStore(db()).insert(make_session(cube, session)).is_ok());
    }

    std::unique_ptr<Database> db_;
};

// Field-by-field equality with readable failures.
inline void expect_equal(const TurnRecord& a, const TurnRecord& b) {
    EXPECT_EQ(a.id, b.id);
    EXPECT_EQ(a.cube_id, b.cube_id);
    EXPECT_EQ(a.session_id, b.session_id);
    EXPECT_EQ(a.index, b.index);
    EXPECT_EQ(a.role, b.role);
    EXPECT_EQ(a.content, b.content);
    EXPECT_EQ(a.conv_time, b.conv_time);
    EXPECT_EQ(a.ingested_at, b.ingested_at);
    EXPECT_EQ(a.embedding, b.embedding);
    EXPECT_EQ(a.embedder_id, b.embedder_id);
}

inline void expect_equal(const SessionRecord& a, const SessionRecord& b) {
    EXPECT_EQ(a.id, b.id);
    EXPECT_EQ(a.cube_id, b.cube_id);
    EXPECT_EQ(a.external_id, b.external_id);
    EXPECT_EQ(a.started_at, b.started_at);
    EXPECT_EQ(a.summary, b.summary);
    EXPECT_EQ(a.embedding, b.embedding);
    EXPECT_EQ(a.embedder_id, b.embedder_id);
}

inline void expect_equal(const NoteRecord& a, const NoteRecord& b) {
    EXPECT_EQ(a.id, b.id);
    EXPECT_EQ(a.cube_id, b.cube_id);
    EXPECT_EQ(a.content, b.content);
    EXPECT_EQ(a.kind, b.kind);
    EXPECT_EQ(a.keywords, b.keywords);
    EXPECT_EQ(a.tags, b.tags);
    EXPECT_EQ(a.context, b.context);
    EXPECT_EQ(a.source_turn_ids, b.source_turn_ids);
    EXPECT_EQ(a.valid_from, b.valid_from);
    EXPECT_EQ(a.valid_to, b.valid_to);
    EXPECT_EQ(a.recorded_at, b.recorded_at);
    EXPECT_EQ(a.superseded_at, b.superseded_at);
    EXPECT_EQ(a.superseded_by, b.superseded_by);
    EXPECT_EQ(a.status, b.status);
    EXPECT_EQ(a.version, b.version);
    EXPECT_EQ(a.importance, b.importance);
    EXPECT_EQ(a.strength, b.strength);
    EXPECT_EQ(a.last_access, b.last_access);
    EXPECT_EQ(a.content_hash, b.content_hash);
    EXPECT_EQ(a.embedding, b.embedding);
    EXPECT_EQ(a.embedder_id, b.embedder_id);
    EXPECT_EQ(a.updated_at, b.updated_at);
}

// Counts rows of `table` with cube_id = `cube` (or id = `cube` for the cubes table).
inline std::int64_t count_rows(Database& db, const std::string& table, const std::string& cube) {
    const std::string column = table == "cubes" ? "id" : "cube_id";
    auto s = db.prepare("SELECT COUNT(*) FROM " + table + " WHERE " + column + " = ?1");
    if (!s.is_ok()) {
        ADD_FAILURE() << s.status().to_string();
        return -1;
    }
    (*s)->bind_text(1, cube);
    auto row = (*s)->step();
    if (!row.is_ok() || !*row) {
        ADD_FAILURE() << "count failed";
        return -1;
    }
    return (*s)->column_int64(0);
}

}  // namespace kasten::store::testing
