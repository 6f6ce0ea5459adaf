#include "store/note_store.h"

#include <gtest/gtest.h>

#include "store/cube_store.h"
#include "store/link_store.h"
#include "tests/store/store_fixture.h"

namespace kasten::store {
namespace {

class NoteStoreTest : public testing::StoreFixture {
  protected:
    void SetUp() override {
        StoreFixture::SetUp();
        ASSERT_TRUE(CubeStore(db()).create(make_cube("c")).is_ok());
        ASSERT_TRUE(CubeStore(db()).create(make_cube("other")).is_ok());
    }
};

TEST_F(NoteStoreTest, InsertGetRoundTripsEveryField) {
    NoteStore notes(db());
    NoteRecord n = make_note("c", "n_1");
    n.content = "'); DROP TABLE turns;-- \"quoted\" 日本語 🚀\n";
    n.keywords = {"it's", "\"q\"", "a,b", "[x]", ""};
    n.tags = {};
    n.source_turn_ids = {"t_'1"};
    n.valid_from = -86400000;
    n.valid_to = 1800000000000;
    n.superseded_at = 1700000000001;
    n.superseded_by = "n_2";
    n.status = NoteStatus::kSuperseded;
    n.version = 1;
    n.importance = 0.1 + 0.2;  // not exactly 0.3: doubles round-trip bit for bit
    n.strength = 1e-300;
    ASSERT_TRUE(notes.insert(n, "cli").is_ok());
    auto got = notes.get("c", "n_1");
    ASSERT_TRUE(got.is_ok()) << got.status().to_string();
    testing::expect_equal(*got, n);

    NoteRecord bare = make_note("c", "n_2");
    bare.keywords.clear();
    bare.source_turn_ids.clear();
    bare.valid_from.reset();
    bare.embedding.clear();
    bare.embedder_id.clear();
    bare.status = NoteStatus::kArchived;
    ASSERT_TRUE(notes.insert(bare).is_ok());
    testing::expect_equal(*notes.get("c", "n_2"), bare);
}

TEST_F(NoteStoreTest, CubeOfFindsTheCubeFromTheIdAlone) {
    NoteStore notes(db());
    ASSERT_TRUE(notes.insert(make_note("c", "n_1")).is_ok());
    ASSERT_TRUE(notes.insert(make_note("other", "n_2")).is_ok());
    EXPECT_EQ(notes.cube_of("n_1").value(), "c");
    EXPECT_EQ(notes.cube_of("n_2").value(), "other");
    EXPECT_EQ(notes.cube_of("n_3").status().code(), StatusCode::kNotFound);
    ASSERT_TRUE(notes.remove("other", "n_2").is_ok());
    EXPECT_EQ(notes.cube_of("n_2").status().code(), StatusCode::kNotFound);
}

TEST_F(NoteStoreTest, InsertWritesVersionOne) {
    NoteStore notes(db());
    NoteRecord n = make_note("c", "n_1", 4242);
    ASSERT_TRUE(notes.insert(n, "api:alice").is_ok());
    auto versions = notes.versions("c", "n_1");
    ASSERT_TRUE(versions.is_ok()) << versions.status().to_string();
    ASSERT_EQ(versions->size(), 1u);
    const NoteVersionRecord& v = (*versions)[0];
    EXPECT_EQ(v.note_id, "n_1");
    EXPECT_EQ(v.version, 1);
    EXPECT_EQ(v.content, n.content);
    EXPECT_EQ(v.kind, n.kind);
    EXPECT_EQ(v.keywords, n.keywords);
    EXPECT_EQ(v.tags, n.tags);
    EXPECT_EQ(v.context, n.context);
    EXPECT_EQ(v.status, n.status);
    EXPECT_EQ(v.valid_from, n.valid_from);
    EXPECT_EQ(v.valid_to, n.valid_to);
    EXPECT_EQ(v.reason, "create");
    EXPECT_EQ(v.actor, "api:alice");
    EXPECT_EQ(v.created_at, 4242);
}

TEST_F(NoteStoreTest, InsertErrors) {
    NoteStore notes(db());
    ASSERT_TRUE(notes.insert(make_note("c", "n_1")).is_ok());
    EXPECT_EQ(notes.insert(make_note("c", "n_1")).code(), StatusCode::kAlreadyExists);
    EXPECT_EQ(notes.insert(make_note("other", "n_1")).code(), StatusCode::kAlreadyExists);  // ids are global
    EXPECT_EQ(notes.insert(make_note("nope", "n_2")).code(), StatusCode::kNotFound);
    NoteRecord bad = make_note("c", "n_3");
    bad.version = 0;
    EXPECT_EQ(notes.insert(bad).code(), StatusCode::kInvalidArgument);
    NoteRecord nul = make_note("c", "n_4");
    nul.context = std::string("x\0y", 3);
    EXPECT_EQ(notes.insert(nul).code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(*notes.count("c"), 1);
    EXPECT_EQ(testing::count_rows(db(), "note_versions", "c"), 1);  // failed inserts left no version behind
    EXPECT_FALSE(db().in_transaction());
}

TEST_F(NoteStoreTest, UpdateWritesANewVersionEachTime) {
    NoteStore notes(db());
    NoteRecord n = make_note("c", "n_1", 1000);
    ASSERT_TRUE(notes.insert(n, "cli").is_ok());

    NoteRecord next = n;
    next.content = "Alice now prefers coffee";
    next.tags = {"drink"};
    next.version = 99;  // ignored
    ASSERT_TRUE(notes.update(next, "update", "api:bob", 2000).is_ok());
    next.context = "evolved context";
    next.status = NoteStatus::kSuperseded;
    next.valid_to = 2500;
    ASSERT_TRUE(notes.update(next, "evolution", "scheduler", 3000).is_ok());

    auto got = notes.get("c", "n_1");
    ASSERT_TRUE(got.is_ok());
    NoteRecord expected = next;
    expected.version = 3;
    expected.updated_at = 3000;
    testing::expect_equal(*got, expected);

    auto versions = notes.versions("c", "n_1");
    ASSERT_TRUE(versions.is_ok());
    ASSERT_EQ(versions->size(), 3u);
    EXPECT_EQ((*versions)[0].version, 1);
    EXPECT_EQ((*versions)[0].content, n.content);
    EXPECT_EQ((*versions)[0].reason, "create");
    EXPECT_EQ((*versions)[1].version, 2);
    EXPECT_EQ((*versions)[1].content, "Alice now prefers coffee");
    EXPECT_EQ((*versions)[1].tags, std::vector<std::string>{"drink"});
    EXPECT_EQ((*versions)[1].reason, "update");
    EXPECT_EQ((*versions)[1].actor, "api:bob");
    EXPECT_EQ((*versions)[1].created_at, 2000);
    EXPECT_EQ((*versions)[2].version, 3);
    EXPECT_EQ((*versions)[2].context, "evolved context");
    EXPECT_EQ((*versions)[2].status, NoteStatus::kSuperseded);
    EXPECT_EQ((*versions)[2].valid_to, 2500);
    EXPECT_EQ((*versions)[2].reason, "evolution");
    EXPECT_EQ((*versions)[2].actor, "scheduler");

    NoteRecord missing = make_note("c", "n_nope");
    EXPECT_EQ(notes.update(missing, "update", "x", 1).code(), StatusCode::kNotFound);
    NoteRecord wrong_cube = next;
    wrong_cube.cube_id = "other";
    EXPECT_EQ(notes.update(wrong_cube, "update", "x", 1).code(), StatusCode::kNotFound);
    EXPECT_EQ(notes.versions("c", "n_nope").status().code(), StatusCode::kNotFound);
    EXPECT_EQ(notes.versions("other", "n_1").status().code(), StatusCode::kNotFound);
}

TEST_F(NoteStoreTest, RemoveCascadesVersionsAndLinks) {
    NoteStore notes(db());
    ASSERT_TRUE(notes.insert(make_note("c", "n_1")).is_ok());
    ASSERT_TRUE(notes.insert(make_note("c", "n_2")).is_ok());
    ASSERT_TRUE(notes.insert(make_note("c", "n_3")).is_ok());
    ASSERT_TRUE(notes.update(make_note("c", "n_1"), "update", "x", 1).is_ok());
    LinkStore links(db());
    ASSERT_TRUE(links.upsert({"c", "n_1", "n_2", "related", 1.0, "", 1}).is_ok());
    ASSERT_TRUE(links.upsert({"c", "n_3", "n_1", "supports", 1.0, "", 1}).is_ok());
    ASSERT_TRUE(links.upsert({"c", "n_2", "n_3", "related", 1.0, "", 1}).is_ok());
    ASSERT_TRUE(notes.remove("c", "n_1").is_ok());
    EXPECT_EQ(notes.get("c", "n_1").status().code(), StatusCode::kNotFound);
    EXPECT_EQ(testing::count_rows(db(), "note_versions", "c"), 2);  // n_2's and n_3's
    auto remaining = links.list("c");
    ASSERT_TRUE(remaining.is_ok());
    ASSERT_EQ(remaining->size(), 1u);
    EXPECT_EQ((*remaining)[0].src_note_id, "n_2");
    EXPECT_EQ(notes.remove("c", "n_1").code(), StatusCode::kNotFound);
    EXPECT_EQ(notes.remove("other", "n_2").code(), StatusCode::kNotFound);
}

TEST_F(NoteStoreTest, ListFiltersByStatusAndPages) {
    NoteStore notes(db());
    NoteRecord a = make_note("c", "n_a", 30);
    NoteRecord b = make_note("c", "n_b", 10);
    b.status = NoteStatus::kArchived;
    NoteRecord c = make_note("c", "n_c", 20);
    NoteRecord d = make_note("c", "n_d", 20);
    for (const auto& n : {a, b, c, d}) ASSERT_TRUE(notes.insert(n).is_ok());
    ASSERT_TRUE(notes.insert(make_note("other", "n_o", 0)).is_ok());
    auto ids = [](const Result<std::vector<NoteRecord>>& r) {
        std::vector<std::string> out;
        EXPECT_TRUE(r.is_ok());
        if (r.is_ok()) {
            for (const auto& n : *r) out.push_back(n.id);
        }
        return out;
    };
    EXPECT_EQ(ids(notes.list("c", std::nullopt, -1, 0)), (std::vector<std::string>{"n_b", "n_c", "n_d", "n_a"}));
    EXPECT_EQ(ids(notes.list("c", NoteStatus::kActive, -1, 0)), (std::vector<std::string>{"n_c", "n_d", "n_a"}));
    EXPECT_EQ(ids(notes.list("c", NoteStatus::kArchived, -1, 0)), (std::vector<std::string>{"n_b"}));
    EXPECT_TRUE(ids(notes.list("c", NoteStatus::kDeleted, -1, 0)).empty());
    EXPECT_EQ(ids(notes.list("c", NoteStatus::kActive, 1, 1)), (std::vector<std::string>{"n_d"}));
    EXPECT_EQ(ids(notes.list("c", std::nullopt, 2, 0)), (std::vector<std::string>{"n_b", "n_c"}));
    EXPECT_EQ(*notes.count("c"), 4);
    EXPECT_EQ(ids(notes.get_many("c", {"n_d", "n_o", "n_a", "zz"})), (std::vector<std::string>{"n_d", "n_a"}));
}

TEST_F(NoteStoreTest, HasActiveHashSeesOnlyActiveNotesOfTheCube) {
    NoteStore notes(db());
    NoteRecord old = make_note("c", "n_old", 10);
    old.content_hash = "h";
    old.status = NoteStatus::kSuperseded;
    NoteRecord later = make_note("c", "n_later", 30);
    later.content_hash = "h";
    NoteRecord earlier = make_note("c", "n_earlier", 20);
    earlier.content_hash = "h";
    NoteRecord foreign = make_note("other", "n_foreign", 0);
    foreign.content_hash = "h";
    for (const auto& n : {old, later, earlier, foreign}) ASSERT_TRUE(notes.insert(n).is_ok());
    EXPECT_TRUE(notes.has_active_hash("c", "h").value());
    EXPECT_FALSE(notes.has_active_hash("c", "nope").value());
    EXPECT_FALSE(notes.has_active_hash("elsewhere", "h").value());
    NoteRecord only_old = make_note("c", "n_only_old", 10);
    only_old.content_hash = "h_old";
    only_old.status = NoteStatus::kSuperseded;
    ASSERT_TRUE(notes.insert(only_old).is_ok());
    EXPECT_FALSE(notes.has_active_hash("c", "h_old").value()) << "a superseded note is no duplicate";
}

TEST_F(NoteStoreTest, SetEmbeddingAndTouchDoNotVersion) {
    NoteStore notes(db());
    NoteRecord n = make_note("c", "n_1", 100);
    ASSERT_TRUE(notes.insert(n).is_ok());
    ASSERT_TRUE(notes.set_embedding("c", "n_1", {7.0f, 8.0f, 9.0f, 10.0f}, "emb-2").is_ok());
    ASSERT_TRUE(notes.touch("c", "n_1", 5555, 2.25).is_ok());
    auto got = notes.get("c", "n_1");
    ASSERT_TRUE(got.is_ok());
    NoteRecord expected = n;
    expected.embedding = {7.0f, 8.0f, 9.0f, 10.0f};
    expected.embedder_id = "emb-2";
    expected.last_access = 5555;
    expected.strength = 2.25;
    testing::expect_equal(*got, expected);
    EXPECT_EQ(notes.versions("c", "n_1")->size(), 1u);
    EXPECT_EQ(notes.touch("other", "n_1", 1, 1.0).code(), StatusCode::kNotFound);
    EXPECT_EQ(notes.set_embedding("c", "nope", {}, "").code(), StatusCode::kNotFound);
}

TEST_F(NoteStoreTest, ForEachVisitsEveryNoteOfTheCube) {
    NoteStore notes(db());
    for (int i = 0; i < 4; ++i) ASSERT_TRUE(notes.insert(make_note("c", "n_" + std::to_string(i), i)).is_ok());
    ASSERT_TRUE(notes.insert(make_note("other", "n_x")).is_ok());
    std::vector<std::string> seen;
    ASSERT_TRUE(notes
                    .for_each("c",
                              [&](const NoteRecord& n) {
                                  seen.push_back(n.id);
                                  return notes.touch("c", n.id, 1, 0.5);
                              })
                    .is_ok());
    EXPECT_EQ(seen, (std::vector<std::string>{"n_0", "n_1", "n_2", "n_3"}));
    EXPECT_EQ(notes.get("c", "n_2")->strength, 0.5);
    int calls = 0;
    Status st = notes.for_each("c", [&](const NoteRecord&) {
        ++calls;
        return Status::not_found("stop");
    });
    EXPECT_EQ(st.code(), StatusCode::kNotFound);
    EXPECT_EQ(calls, 1);
}

TEST_F(NoteStoreTest, InsertVersionRestoresHistoryExactly) {
    NoteStore notes(db());
    NoteRecord n = make_note("c", "n_1");
    n.version = 2;
    ASSERT_TRUE(notes.insert(n).is_ok());  // writes version 2 with reason "create"
    NoteVersionRecord v1;
    v1.note_id = "n_1";
    v1.version = 1;
    v1.content = "original";
    v1.kind = "fact";
    v1.keywords = {"k"};
    v1.tags = {"t"};
    v1.context = "ctx";
    v1.status = NoteStatus::kActive;
    v1.valid_from = 1;
    v1.valid_to = 2;
    v1.reason = "create";
    v1.actor = "import";
    v1.created_at = 11;
    NoteVersionRecord v2 = v1;
    v2.version = 2;
    v2.content = n.content;
    v2.reason = "user_edit";
    v2.actor = "api:carol";
    v2.valid_to.reset();
    v2.created_at = 22;
    ASSERT_TRUE(notes.insert_version(v1, "c").is_ok());
    ASSERT_TRUE(notes.insert_version(v2, "c").is_ok());  // replaces the "create" row insert() wrote
    auto versions = notes.versions("c", "n_1");
    ASSERT_TRUE(versions.is_ok());
    ASSERT_EQ(versions->size(), 2u);
    for (int i = 0; i < 2; ++i) {
        const NoteVersionRecord& want = i == 0 ? v1 : v2;
        const NoteVersionRecord& got = (*versions)[i];
        EXPECT_EQ(got.note_id, want.note_id);
        EXPECT_EQ(got.version, want.version);
        EXPECT_EQ(got.content, want.content);
        EXPECT_EQ(got.kind, want.kind);
        EXPECT_EQ(got.keywords, want.keywords);
        EXPECT_EQ(got.tags, want.tags);
        EXPECT_EQ(got.context, want.context);
        EXPECT_EQ(got.status, want.status);
        EXPECT_EQ(got.valid_from, want.valid_from);
        EXPECT_EQ(got.valid_to, want.valid_to);
        EXPECT_EQ(got.reason, want.reason);
        EXPECT_EQ(got.actor, want.actor);
        EXPECT_EQ(got.created_at, want.created_at);
    }
    EXPECT_EQ(notes.insert_version(v1, "other").code(), StatusCode::kNotFound);
    v1.note_id = "n_nope";
    EXPECT_EQ(notes.insert_version(v1, "c").code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace kasten::store
