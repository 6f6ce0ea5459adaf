#include "memory/cube_archive.h"

#include <sstream>

#include <gtest/gtest.h>

namespace kasten::memory {
namespace {

CubeArchive sample() {
    CubeArchive a;
    a.cube.id = "alice";
    a.cube.name = "Alice";
    a.cube.created_at = 1700000000123;
    a.cube.metadata_json = R"({"tier":"gold"})";
    store::SessionRecord s;
    s.id = "s_1";
    s.external_id = "chat-1";
    s.started_at = 1700000000000;
    s.summary = "";
    a.sessions.push_back(s);
    store::TurnRecord t;
    t.id = "t_1";
    t.session_id = "s_1";
    t.index = 0;
    t.role = "user";
    t.content = "I said \"hi\" \n and '); DROP TABLE turns;-- caf\xc3\xa9";
    t.conv_time = 1700000000000;
    t.ingested_at = 1700000000500;
    a.turns.push_back(t);
    store::NoteRecord n;
    n.id = "n_1";
    n.content = "Alice likes tea";
    n.keywords = {"tea"};
    n.tags = {"preference", "drinks"};
    n.context = "food talk";
    n.source_turn_ids = {"t_1"};
    n.valid_from = 1600000000000;
    n.recorded_at = 1700000000600;
    n.version = 2;
    n.importance = 0.25;
    n.strength = 1.5;
    n.last_access = 1700000000600;
    n.content_hash = "abc";
    n.updated_at = 1700000000700;
    a.notes.push_back(n);
    store::NoteVersionRecord v;
    v.note_id = "n_1";
    v.version = 1;
    v.content = "Alice likes coffee";
    v.kind = "fact";
    v.reason = "create";
    v.actor = "api";
    v.created_at = 1700000000600;
    a.note_versions.push_back(v);
    store::LinkRecord l;
    l.src_note_id = "n_1";
    l.dst_note_id = "n_1";
    l.relation = "related";
    l.weight = 0.5;
    l.created_at = 1700000000800;
    a.links.push_back(l);
    return a;
}

TEST(CubeArchiveTest, RoundTripsExactly) {
    std::stringstream first;
    ASSERT_TRUE(write_cube_archive(sample(), first).is_ok());
    std::string text = first.str();
    std::istringstream in(text);
    auto back = read_cube_archive(in);
    ASSERT_TRUE(back.is_ok()) << back.status().to_string();
    EXPECT_EQ(back->turns.at(0).content, sample().turns.at(0).content);
    EXPECT_EQ(back->notes.at(0).valid_from, sample().notes.at(0).valid_from);
    EXPECT_FALSE(back->notes.at(0).valid_to.has_value());
    std::stringstream second;
    ASSERT_TRUE(write_cube_archive(*back, second).is_ok());
    EXPECT_EQ(second.str(), text);
}

Status parse(const std::string& text) {
    std::istringstream in(text);
    return read_cube_archive(in).status();
}

TEST(CubeArchiveTest, RejectsBadInputNamingTheLine) {
    std::stringstream ok;
    ASSERT_TRUE(write_cube_archive(sample(), ok).is_ok());
    std::string good = ok.str();
    EXPECT_TRUE(parse(good).is_ok());
    EXPECT_EQ(parse("").code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(parse("{not json}\n").code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(parse(R"({"type":"header","format":"kasten-cube","version":99})").code(), StatusCode::kNotSupported);
    std::string unknown_field = good;
    unknown_field.insert(unknown_field.find("\"type\":\"turn\""), "\"bogus\":1,");
    Status s = parse(unknown_field);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
    EXPECT_NE(s.message().find("line 4"), std::string::npos) << s.message();
    EXPECT_NE(s.message().find("bogus"), std::string::npos);
    std::string dangling = good;
    dangling.replace(dangling.find("\"session_id\":\"s_1\""), 18, "\"session_id\":\"s_9\"");
    EXPECT_EQ(parse(dangling).code(), StatusCode::kInvalidArgument);
    std::string bad_role = good;
    bad_role.replace(bad_role.find("\"role\":\"user\""), 13, "\"role\":\"boss\"");
    EXPECT_EQ(parse(bad_role).code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace kasten::memory
