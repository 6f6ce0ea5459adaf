#include "api/dto/request_parser.h"

#include <gtest/gtest.h>

#include "common/timestamp.h"
#include "memory/score_calibrator.h"

namespace kasten::api {
namespace {

const RequestLimits kLimits{/*max_query_chars=*/100, /*max_top_k=*/50, /*max_content_chars=*/200};

// The error is kInvalidArgument and its message mentions `needle`.
void expect_rejected(const Status& st, const std::string& needle) {
    EXPECT_EQ(st.code(), StatusCode::kInvalidArgument) << st.to_string();
    EXPECT_NE(st.message().find(needle), std::string::npos) << "'" << needle << "' not in: " << st.message();
}

TEST(RequestParserTest, AddsMessages) {
    auto r = parse_add_memories(R"({"messages":[{"role":"user","content":"I live in Lisbon",
        "time":"2024-05-30T14:00:00Z"},{"role":"assistant","content":"Nice"}],"session_id":"s1",
        "time":"2024-05-30"})",
                                kLimits);
    ASSERT_TRUE(r.is_ok()) << r.status().to_string();
    ASSERT_TRUE(r->messages.has_value());
    EXPECT_FALSE(r->note.has_value());
    const auto& m = *r->messages;
    ASSERT_EQ(m.messages.size(), 2u);
    EXPECT_EQ(m.messages[0].role, "user");
    EXPECT_EQ(m.messages[0].content, "I live in Lisbon");
    EXPECT_EQ(*m.messages[0].time, parse_timestamp("2024-05-30T14:00:00Z").value());
    EXPECT_FALSE(m.messages[1].time.has_value());
    EXPECT_EQ(m.session_id, "s1");
    EXPECT_EQ(*m.time, parse_timestamp("2024-05-30").value());
    EXPECT_FALSE(m.background);
}

TEST(RequestParserTest, ABulkAddAsksForTheBackground) {
    auto r = parse_add_memories(R"({"messages":[{"role":"user","content":"x"}],"background":true})", kLimits);
    ASSERT_TRUE(r.is_ok()) << r.status().to_string();
    ASSERT_TRUE(r->messages.has_value());
    EXPECT_TRUE(r->messages->background);
    r = parse_add_memories(R"({"messages":[{"role":"user","content":"x"}],"background":false})", kLimits);
    ASSERT_TRUE(r.is_ok()) << r.status().to_string();
    EXPECT_FALSE(r->messages->background);
    expect_rejected(
        parse_add_memories(R"({"messages":[{"role":"user","content":"x"}],"background":"yes"})", kLimits).status(),
        "background");
    expect_rejected(
        parse_add_memories(R"({"messages":[{"role":"user","content":"x"}],"background":1})", kLimits).status(),
        "expected true or false");
}

TEST(RequestParserTest, AddsANote) {
    auto r = parse_add_memories(R"({"content":"likes tea","kind":"preference","keywords":["tea"],"tags":["food"],
        "context":"drinks","valid_from":"2024-01-01","valid_to":null,"importance":0.9,"source_turn_ids":["t_1"]})",
                                kLimits);
    ASSERT_TRUE(r.is_ok()) << r.status().to_string();
    ASSERT_TRUE(r->note.has_value());
    EXPECT_EQ(r->note->content, "likes tea");
    EXPECT_EQ(r->note->kind, "preference");
    EXPECT_EQ(r->note->keywords, std::vector<std::string>{"tea"});
    EXPECT_EQ(r->note->tags, std::vector<std::string>{"food"});
    EXPECT_EQ(r->note->context, "drinks");
    EXPECT_TRUE(r->note->valid_from.has_value());
    EXPECT_FALSE(r->note->valid_to.has_value());
    EXPECT_DOUBLE_EQ(r->note->importance, 0.9);
    EXPECT_EQ(r->note->source_turn_ids, std::vector<std::string>{"t_1"});
}

TEST(RequestParserTest, BothOrNeitherShapeIsRejected) {
    expect_rejected(
        parse_add_memories(R"({"messages":[{"role":"user","content":"x"}],"content":"y"})", kLimits).status(),
        "not both");
    expect_rejected(parse_add_memories(R"({"session_id":"s"})", kLimits).status(), "needs 'messages'");
    expect_rejected(parse_add_memories(R"({})", kLimits).status(), "needs 'messages'");
}

TEST(RequestParserTest, MalformedJsonAndNonObjects) {
    expect_rejected(parse_add_memories("", kLimits).status(), "empty");
    expect_rejected(parse_add_memories("{\"messages\": [", kLimits).status(), "not valid JSON");
    expect_rejected(parse_add_memories("{'a': 1}", kLimits).status(), "not valid JSON");
    expect_rejected(parse_add_memories("[1,2]", kLimits).status(), "must be a JSON object");
    expect_rejected(parse_add_memories("\"text\"", kLimits).status(), "must be a JSON object");
    expect_rejected(parse_add_memories("{} {}", kLimits).status(), "not valid JSON");
    expect_rejected(parse_search(std::string(100, '[') + std::string(100, ']'), kLimits).status(), "nests deeper");
}

TEST(RequestParserTest, WrongTypesNameTheField) {
    expect_rejected(parse_add_memories(R"({"messages":"hi"})", kLimits).status(), "messages");
    expect_rejected(parse_add_memories(R"({"messages":[]})", kLimits).status(), "at least one");
    expect_rejected(parse_add_memories(R"({"messages":[1]})", kLimits).status(), "messages[0]");
    expect_rejected(parse_add_memories(R"({"messages":[{"role":"user","content":5}]})", kLimits).status(),
                    "messages[0].content': expected a string");
    expect_rejected(
        parse_add_memories(R"({"messages":[{"role":"user","content":"a"},{"role":"robot","content":"b"}]})", kLimits)
            .status(),
        "messages[1].role");
    expect_rejected(
        parse_add_memories(R"({"messages":[{"role":"user","content":"a"}],"session_id":7})", kLimits).status(),
        "session_id");
    expect_rejected(parse_add_memories(R"({"content":"a","importance":"high"})", kLimits).status(), "importance");
    expect_rejected(parse_add_memories(R"({"content":"a","importance":1.5})", kLimits).status(), "importance");
    expect_rejected(parse_add_memories(R"({"content":"a","keywords":"tea"})", kLimits).status(), "keywords");
    expect_rejected(parse_add_memories(R"({"content":"a","tags":["x",3]})", kLimits).status(), "tags[1]");
    expect_rejected(parse_search(R"({"query":"q","top_k":"5"})", kLimits).status(), "top_k");
    expect_rejected(parse_search(R"({"query":"q","top_k":5.5})", kLimits).status(), "top_k");
    expect_rejected(parse_search(R"({"query":["q"]})", kLimits).status(), "query");
    expect_rejected(parse_search(R"({"query":"q","filters":[]})", kLimits).status(), "filters");
    expect_rejected(parse_search(R"({"query":"q","granularity":"paragraph"})", kLimits).status(), "granularity");
    expect_rejected(parse_search(R"({"query":"q","retriever":"magic"})", kLimits).status(), "retriever");
}

TEST(RequestParserTest, MissingFields) {
    expect_rejected(parse_add_memories(R"({"messages":[{"role":"user"}]})", kLimits).status(),
                    "messages[0].content': is required");
    expect_rejected(parse_add_memories(R"({"messages":[{"content":"x"}]})", kLimits).status(),
                    "messages[0].role': is required");
    expect_rejected(parse_search(R"({"top_k":3})", kLimits).status(), "'query': is required");
    expect_rejected(parse_create_cube(R"({"name":"x"})").status(), "'id': is required");
    expect_rejected(parse_add_memories(R"({"content":""})", kLimits).status(), "must not be empty");
}

TEST(RequestParserTest, UnknownFieldsAreRejectedByName) {
    expect_rejected(
        parse_add_memories(R"({"messages":[{"role":"user","content":"x"}],"sesion_id":"s"})", kLimits).status(),
        "unknown field 'sesion_id'");
    expect_rejected(
        parse_add_memories(R"({"messages":[{"role":"user","content":"x","name":"bob"}]})", kLimits).status(),
        "unknown field 'messages[0].name'");
    expect_rejected(
        parse_add_memories(R"({"messages":[{"role":"user","content":"x"}],"kind":"fact"})", kLimits).status(),
        "unknown field 'kind'");
    expect_rejected(parse_add_memories(R"({"content":"x","role":"user"})", kLimits).status(), "unknown field 'role'");
    expect_rejected(parse_search(R"({"query":"q","filters":{"speaker":"me"}})", kLimits).status(),
                    "unknown field 'filters.speaker'");
    expect_rejected(parse_note_patch(R"({"content":"x","id":"n_1"})", kLimits).status(), "unknown field 'id'");
    expect_rejected(parse_create_cube(R"({"id":"a","owner":"me"})").status(), "unknown field 'owner'");
}

TEST(RequestParserTest, InvalidUtf8AndNulAreRejected) {
    expect_rejected(parse_add_memories("{\"content\":\"bad \xff\xfe\"}", kLimits).status(), "UTF-8");
    expect_rejected(parse_add_memories("{\"content\":\"\xc3\x28\"}", kLimits).status(), "UTF-8");
    expect_rejected(parse_add_memories(R"({"content":"lone \ud800 surrogate"})", kLimits).status(), "JSON");
    expect_rejected(parse_add_memories(R"({"content":"nul \u0000 inside"})", kLimits).status(), "content");
    expect_rejected(parse_search("{\"query\":\"q\",\"filters\":{\"role\":\"\xe2\x82\"}}", kLimits).status(), "UTF-8");
}

TEST(RequestParserTest, BadTimesNameTheField) {
    expect_rejected(
        parse_add_memories(R"({"messages":[{"role":"user","content":"x","time":"yesterday"}]})", kLimits).status(),
        "messages[0].time");
    expect_rejected(
        parse_add_memories(R"({"messages":[{"role":"user","content":"x"}],"time":1700000000})", kLimits).status(),
        "'time'");
    expect_rejected(parse_add_memories(R"({"content":"x","valid_from":"2024-13-01"})", kLimits).status(), "valid_from");
    expect_rejected(
        parse_add_memories(R"({"content":"x","valid_from":"2024-02-01","valid_to":"2024-01-01"})", kLimits).status(),
        "valid_to");
    expect_rejected(parse_search(R"({"query":"q","as_of":"soon"})", kLimits).status(), "as_of");
    expect_rejected(parse_search(R"({"query":"q","filters":{"time_from":"2024-02-30"}})", kLimits).status(),
                    "filters.time_from");
}

TEST(RequestParserTest, LimitsOnQueryTopKAndContent) {
    expect_rejected(parse_search(R"({"query":")" + std::string(101, 'a') + R"("})", kLimits).status(), "query");
    // 100 code points of two bytes each are within a 100-character limit.
    std::string accents;
    for (int i = 0; i < 100; ++i) accents += "\xc3\xa9";
    EXPECT_TRUE(parse_search(R"({"query":")" + accents + R"("})", kLimits).is_ok());
    expect_rejected(parse_search(R"({"query":"q","top_k":0})", kLimits).status(), "top_k");
    expect_rejected(parse_search(R"({"query":"q","top_k":-3})", kLimits).status(), "top_k");
    expect_rejected(parse_search(R"({"query":"q","top_k":51})", kLimits).status(), "top_k");
    expect_rejected(parse_search(R"({"query":"q","top_k":18446744073709551615})", kLimits).status(), "top_k");
    EXPECT_EQ(parse_search(R"({"query":"q","top_k":50})", kLimits)->top_k, 50);
    expect_rejected(parse_search(R"({"query":"   "})", kLimits).status(), "blank");
    expect_rejected(parse_add_memories(R"({"content":")" + std::string(201, 'x') + R"("})", kLimits).status(),
                    "content");
}

TEST(RequestParserTest, QuotesAndSqlAreOrdinaryText) {
    const std::string nasty = R"(Robert'); DROP TABLE turns;-- \"quoted\" \\ %_ )";
    auto r =
        parse_add_memories(R"({"messages":[{"role":"user","content":")" + nasty + R"("}],"session_id":"s"})", kLimits);
    ASSERT_TRUE(r.is_ok()) << r.status().to_string();
    EXPECT_EQ(r->messages->messages[0].content, R"(Robert'); DROP TABLE turns;-- "quoted" \ %_ )");
}

TEST(RequestParserTest, SearchDefaultsAndFilters) {
    auto r = parse_search(R"({"query":"where do I live","granularity":"session","retriever":"lexical","top_k":3,
        "filters":{"time_from":"2024-01-01","time_to":"2024-12-31","role":"user","session_id":"s1"},
        "as_of":"2024-06-01T00:00:00Z"})",
                          kLimits);
    ASSERT_TRUE(r.is_ok()) << r.status().to_string();
    EXPECT_EQ(r->granularity, memory::Granularity::kSession);
    EXPECT_EQ(r->retriever, memory::Retriever::kLexical);
    EXPECT_EQ(r->top_k, 3);
    EXPECT_TRUE(r->time_from && r->time_to && r->as_of);
    EXPECT_EQ(*r->role, "user");
    EXPECT_EQ(*r->session_id, "s1");
    auto d = parse_search(R"({"query":"x"})", kLimits);
    ASSERT_TRUE(d.is_ok());
    EXPECT_EQ(d->granularity, memory::Granularity::kTurn);
    EXPECT_EQ(d->retriever, memory::Retriever::kHybrid);
    EXPECT_EQ(d->top_k, 10);
    expect_rejected(parse_search(R"({"query":"q","filters":{"role":"robot"}})", kLimits).status(), "filters.role");
}

TEST(RequestParserTest, SearchNoteKeysAndLinkExpansion) {
    auto d = parse_search(R"({"query":"x"})", kLimits);
    ASSERT_TRUE(d.is_ok());
    EXPECT_TRUE(d->note_keys);
    EXPECT_TRUE(d->expand_links);
    EXPECT_FALSE(d->as_of);
    auto off = parse_search(R"({"query":"x","note_keys":false,"expand_links":false,"as_of":"2023-02-01"})", kLimits);
    ASSERT_TRUE(off.is_ok()) << off.status().to_string();
    EXPECT_FALSE(off->note_keys);
    EXPECT_FALSE(off->expand_links);
    EXPECT_EQ(*off->as_of, parse_timestamp("2023-02-01T00:00:00Z").value());
    auto null_is_default = parse_search(R"({"query":"x","note_keys":null})", kLimits);
    ASSERT_TRUE(null_is_default.is_ok());
    EXPECT_TRUE(null_is_default->note_keys);
    expect_rejected(parse_search(R"({"query":"x","note_keys":"no"})", kLimits).status(), "note_keys");
    expect_rejected(parse_search(R"({"query":"x","expand_links":1})", kLimits).status(), "expand_links");
}

TEST(RequestParserTest, SearchMinScoreDefaultsToTheDocumentedThreshold) {
    auto d = parse_search(R"({"query":"x"})", kLimits);
    ASSERT_TRUE(d.is_ok());
    ASSERT_TRUE(d->min_score.has_value());
    EXPECT_DOUBLE_EQ(*d->min_score, memory::kDefaultMinScore);
    auto null_is_default = parse_search(R"({"query":"x","min_score":null})", kLimits);
    ASSERT_TRUE(null_is_default.is_ok());
    EXPECT_DOUBLE_EQ(*null_is_default->min_score, memory::kDefaultMinScore);
    for (double v : {0.0, 0.25, 1.0}) {
        auto set = parse_search(R"({"query":"x","min_score":)" + std::to_string(v) + "}", kLimits);
        ASSERT_TRUE(set.is_ok()) << set.status().to_string();
        EXPECT_DOUBLE_EQ(*set->min_score, v);
    }
    auto integer = parse_search(R"({"query":"x","min_score":0})", kLimits);
    ASSERT_TRUE(integer.is_ok());
    EXPECT_DOUBLE_EQ(*integer->min_score, 0.0);
    for (const char* bad :
         {R"({"query":"x","min_score":1.5})", R"({"query":"x","min_score":-0.1})", R"({"query":"x","min_score":"0.2"})",
          R"({"query":"x","min_score":true})", R"({"query":"x","min_score":[0.2]})"}) {
        expect_rejected(parse_search(bad, kLimits).status(), "'min_score'");
    }
    expect_rejected(parse_search(R"({"query":"x","minscore":0.2})", kLimits).status(), "unknown field 'minscore'");
}

TEST(RequestParserTest, PatchNeedsAChangeAndAValidStatus) {
    auto p = parse_note_patch(R"({"content":"new","status":"archived","reason":"update","tags":[]})", kLimits);
    ASSERT_TRUE(p.is_ok()) << p.status().to_string();
    EXPECT_EQ(*p->content, "new");
    EXPECT_EQ(*p->status, store::NoteStatus::kArchived);
    EXPECT_EQ(p->reason, "update");
    EXPECT_TRUE(p->tags && p->tags->empty());
    EXPECT_FALSE(p->kind.has_value());
    expect_rejected(parse_note_patch(R"({})", kLimits).status(), "changes nothing");
    expect_rejected(parse_note_patch(R"({"reason":"x"})", kLimits).status(), "changes nothing");
    expect_rejected(parse_note_patch(R"({"status":"gone"})", kLimits).status(), "status");
}

TEST(RequestParserTest, CubeIds) {
    auto c = parse_create_cube(R"({"id":"demo-1","name":"Demo"})");
    ASSERT_TRUE(c.is_ok());
    EXPECT_EQ(c->id, "demo-1");
    EXPECT_EQ(c->name, "Demo");
    expect_rejected(parse_create_cube(R"({"id":"a b"})").status(), "'id'");
    expect_rejected(parse_create_cube(R"({"id":""})").status(), "'id'");
    expect_rejected(parse_create_cube(R"({"id":")" + std::string(129, 'a') + R"("})").status(), "'id'");
}

TEST(RequestParserTest, QueryParameters) {
    EXPECT_TRUE(check_query_names({{"limit", "1"}}, {"limit", "offset"}).is_ok());
    expect_rejected(check_query_names({{"limt", "1"}}, {"limit", "offset"}), "limt");
    expect_rejected(check_query_names({{"x", ""}}, {}), "takes none");
    auto p = parse_paging({{"limit", "20"}, {"offset", "40"}});
    ASSERT_TRUE(p.is_ok());
    EXPECT_EQ(p->limit, 20);
    EXPECT_EQ(p->offset, 40);
    EXPECT_EQ(parse_paging({}).value().limit, 50);
    expect_rejected(parse_paging({{"limit", "0"}}).status(), "limit");
    expect_rejected(parse_paging({{"limit", "1001"}}).status(), "limit");
    expect_rejected(parse_paging({{"limit", "ten"}}).status(), "limit");
    expect_rejected(parse_paging({{"offset", "-1"}}).status(), "offset");
    expect_rejected(parse_paging({{"offset", "99999999999"}}).status(), "offset");
    EXPECT_FALSE(parse_status_filter({}).value().has_value());
    EXPECT_EQ(*parse_status_filter({{"status", "superseded"}}).value(), store::NoteStatus::kSuperseded);
    expect_rejected(parse_status_filter({{"status", "nope"}}).status(), "status");
}

}  // namespace
}  // namespace kasten::api
