#include "api/dto/json_codec.h"

#include <gtest/gtest.h>

#include "common/timestamp.h"

namespace kasten::api {
namespace {

TEST(JsonCodecTest, NoteHasIsoTimesAndNoEmbedding) {
    store::NoteRecord n;
    n.id = "n_1";
    n.cube_id = "c";
    n.content = "likes tea";
    n.keywords = {"tea"};
    n.valid_from = parse_timestamp("2024-01-02T03:04:05Z").value();
    n.recorded_at = parse_timestamp("2024-02-01").value();
    n.status = store::NoteStatus::kSuperseded;
    n.embedding = {0.1f, 0.2f};
    auto j = note_to_json(n);
    EXPECT_EQ(j["id"], "n_1");
    EXPECT_EQ(j["valid_from"], "2024-01-02T03:04:05Z");
    EXPECT_TRUE(j["valid_to"].is_null());
    EXPECT_TRUE(j["superseded_at"].is_null());
    EXPECT_EQ(j["recorded_at"], "2024-02-01T00:00:00Z");
    EXPECT_EQ(j["status"], "superseded");
    EXPECT_EQ(j["keywords"], nlohmann::json::array({"tea"}));
    EXPECT_FALSE(j.contains("embedding"));
}

TEST(JsonCodecTest, NoteHasEveryAgenticField) {
    store::NoteRecord n;
    n.id = "n_1";
    n.valid_to = parse_timestamp("2023-03-01").value();
    n.superseded_at = parse_timestamp("2024-05-01").value();
    n.superseded_by = "n_2";
    n.status = store::NoteStatus::kSuperseded;
    n.strength = 2.5;
    n.last_access = parse_timestamp("2024-05-02").value();
    auto j = note_to_json(n);
    for (const char* key :
         {"kind", "keywords", "tags", "context", "source_turn_ids", "valid_from", "valid_to", "recorded_at",
          "superseded_at", "superseded_by", "status", "version", "importance", "strength", "last_access"}) {
        EXPECT_TRUE(j.contains(key)) << key;
    }
    EXPECT_EQ(j["valid_to"], "2023-03-01T00:00:00Z");
    EXPECT_EQ(j["superseded_at"], "2024-05-01T00:00:00Z");
    EXPECT_EQ(j["superseded_by"], "n_2");
    EXPECT_EQ(j["strength"], 2.5);
    EXPECT_EQ(j["last_access"], "2024-05-02T00:00:00Z");
}

TEST(JsonCodecTest, JobShowsItsParsedResultAndNoPayload) {
    store::JobRecord job;
    job.id = "j_1";
    job.cube_id = "alice";
    job.kind = "notes.build";
    job.state = store::JobState::kDone;
    job.payload_json = R"({"session_id":"s_1","turn_ids":["t_1"]})";
    job.created_at = parse_timestamp("2024-05-01").value();
    job.updated_at = parse_timestamp("2024-05-01T00:00:02Z").value();
    job.attempts = 1;
    job.result_json = R"({"notes":2,"links":1})";
    auto j = job_to_json(job);
    EXPECT_EQ(j["id"], "j_1");
    EXPECT_EQ(j["cube_id"], "alice");
    EXPECT_EQ(j["kind"], "notes.build");
    EXPECT_EQ(j["state"], "done");
    EXPECT_EQ(j["attempts"], 1);
    EXPECT_EQ(j["error"], "");
    EXPECT_EQ(j["created_at"], "2024-05-01T00:00:00Z");
    EXPECT_EQ(j["updated_at"], "2024-05-01T00:00:02Z");
    EXPECT_EQ(j["result"], nlohmann::json::parse(R"({"notes":2,"links":1})"));
    EXPECT_FALSE(j.contains("payload"));
    job.result_json = "not json";
    EXPECT_EQ(job_to_json(job)["result"], "not json");
}

TEST(JsonCodecTest, AddResultJobIdIsNullWithoutAJob) {
    memory::AddMessagesResult r;
    r.session_id = "s";
    r.turn_ids = {"t_1"};
    EXPECT_TRUE(add_messages_result_to_json(r)["job_id"].is_null());
    r.job_id = "j_9";
    EXPECT_EQ(add_messages_result_to_json(r)["job_id"], "j_9");
}

TEST(JsonCodecTest, SearchHitRanksAreNullWhenAbsent) {
    memory::SearchHit h;
    h.granularity = memory::Granularity::kSession;
    h.id = "s1";
    h.score = 0.5;
    h.lexical_rank = 2;
    h.vector_rank = -1;
    h.turn_ids = {"t_1", "t_2"};
    auto j = hit_to_json(h);
    EXPECT_EQ(j["granularity"], "session");
    EXPECT_EQ(j["lexical_rank"], 2);
    EXPECT_TRUE(j["vector_rank"].is_null());
    EXPECT_EQ(j["turn_ids"].size(), 2u);
    for (const char* key : {"granularity", "id", "score", "text", "time", "session_id", "role", "turn_ids",
                            "lexical_rank", "vector_rank"}) {
        EXPECT_TRUE(j.contains(key)) << key;
    }
}

TEST(JsonCodecTest, CubeInfoCarriesCountsAndMetadata) {
    memory::CubeInfo info;
    info.cube.id = "demo";
    info.cube.metadata_json = R"({"owner":"me"})";
    info.turns = 4;
    info.sessions = 1;
    auto j = cube_info_to_json(info);
    EXPECT_EQ(j["counts"]["turns"], 4);
    EXPECT_EQ(j["counts"]["sessions"], 1);
    EXPECT_EQ(j["metadata"]["owner"], "me");
    info.cube.metadata_json = "not json";
    EXPECT_EQ(cube_to_json(info.cube)["metadata"], "not json");
}

TEST(JsonCodecTest, SessionViewTurnsCarryTheExternalSessionId) {
    memory::SessionView v;
    v.session.id = "s_abc";
    v.session.external_id = "trip";
    store::TurnRecord t;
    t.id = "t_1";
    t.session_id = "s_abc";
    v.turns.push_back(t);
    auto j = session_view_to_json(v);
    EXPECT_EQ(j["session_id"], "trip");
    EXPECT_EQ(j["internal_id"], "s_abc");
    EXPECT_EQ(j["turns"][0]["session_id"], "trip");
    EXPECT_EQ(j["turns"][0]["session_internal_id"], "s_abc");
}

TEST(JsonCodecTest, DumpNeverThrowsOnInvalidUtf8) {
    nlohmann::json j = {{"text", std::string("bad \xff byte")}};
    std::string out;
    ASSERT_NO_THROW(out = dump_json(j));
    EXPECT_NE(out.find("bad"), std::string::npos);
}

}  // namespace
}  // namespace kasten::api
