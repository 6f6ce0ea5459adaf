#include "eval/longmemeval_question.h"

#include <gtest/gtest.h>

#include "eval_fixture.h"

namespace kasten::eval {
namespace {

using testing::FixtureSession;
using testing::turn;

nlohmann::json sample(const nlohmann::json& answer) {
    FixtureSession a{"answer_1a2b3c4d",
                     "2023/05/20 (Sat) 02:21",
                     {turn("user", "I graduated in Business Administration.", 1), turn("assistant", "Congrats!", 0)}};
    FixtureSession b{"sharegpt_x_0", "2023/05/21 (Sun) 03:24", {turn("user", "hello"), turn("assistant", "hi")}};
    return testing::question("q1", "single-session-user", "What degree did I graduate with?", answer, {a, b},
                             {"answer_1a2b3c4d"});
}

TEST(LongMemEvalQuestionTest, ParsesTheOfficialShape) {
    auto q = parse_longmemeval_question(sample("Business Administration").dump(), 0);
    ASSERT_TRUE(q.is_ok()) << q.status().to_string();
    EXPECT_EQ(q->question_id, "q1");
    EXPECT_EQ(q->question_type, "single-session-user");
    EXPECT_EQ(q->answer, "Business Administration");
    EXPECT_FALSE(q->answer_is_number);
    EXPECT_EQ(q->question_date, "2023/06/01 (Thu) 10:00");
    ASSERT_EQ(q->haystack_sessions.size(), 2u);
    EXPECT_EQ(q->haystack_session_ids[1], "sharegpt_x_0");
    EXPECT_EQ(q->haystack_dates[0], "2023/05/20 (Sat) 02:21");
    EXPECT_EQ(q->haystack_sessions[0][0].has_answer, std::optional<bool>(true));
    EXPECT_EQ(q->haystack_sessions[0][1].has_answer, std::optional<bool>(false));
    EXPECT_FALSE(q->haystack_sessions[1][0].has_answer.has_value());
    EXPECT_EQ(q->answer_session_ids, std::vector<std::string>{"answer_1a2b3c4d"});
    EXPECT_FALSE(q->is_abstention());
    EXPECT_TRUE(q->has_user_side_evidence());
}

TEST(LongMemEvalQuestionTest, NumericAnswersAreKeptAsText) {
    auto q = parse_longmemeval_question(sample(3).dump(), 0);
    ASSERT_TRUE(q.is_ok()) << q.status().to_string();
    EXPECT_EQ(q->answer, "3");
    EXPECT_TRUE(q->answer_is_number);
    auto bad = parse_longmemeval_question(sample(nlohmann::json::array()).dump(), 0);
    EXPECT_FALSE(bad.is_ok());
}

TEST(LongMemEvalQuestionTest, AbstentionAndEvidenceOnTheAssistantSide) {
    auto j = sample("x");
    j["question_id"] = "q1_abs";
    j["haystack_sessions"][0][0]["has_answer"] = false;
    j["haystack_sessions"][0][1]["has_answer"] = true;  // assistant-side evidence only (SSA)
    auto q = parse_longmemeval_question(j.dump(), 0);
    ASSERT_TRUE(q.is_ok());
    EXPECT_TRUE(q->is_abstention());
    EXPECT_FALSE(q->has_user_side_evidence());
}

TEST(LongMemEvalQuestionTest, ErrorsNameTheQuestionAndTheField) {
    auto j = sample("x");
    j.erase("question_date");
    auto q = parse_longmemeval_question(j.dump(), 4);
    ASSERT_FALSE(q.is_ok());
    EXPECT_EQ(q.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(q.status().message().find("'q1'"), std::string::npos);
    EXPECT_NE(q.status().message().find("question_date"), std::string::npos);

    auto k = sample("x");
    k["haystack_dates"].erase(0);
    auto q2 = parse_longmemeval_question(k.dump(), 0);
    ASSERT_FALSE(q2.is_ok());
    EXPECT_NE(q2.status().message().find("differ in length"), std::string::npos);

    auto t = sample("x");
    t["haystack_sessions"][1][0]["content"] = 5;
    EXPECT_FALSE(parse_longmemeval_question(t.dump(), 0).is_ok());

    auto invalid = parse_longmemeval_question("{\"question_id\": ", 7);
    ASSERT_FALSE(invalid.is_ok());
    EXPECT_NE(invalid.status().message().find("#7"), std::string::npos);
}

TEST(LongMemEvalQuestionTest, QuestionTypeNames) {
    EXPECT_EQ(canonical_question_type("ssu"), std::optional<std::string>("single-session-user"));
    EXPECT_EQ(canonical_question_type("TR"), std::optional<std::string>("temporal-reasoning"));
    EXPECT_EQ(canonical_question_type("knowledge-update"), std::optional<std::string>("knowledge-update"));
    EXPECT_FALSE(canonical_question_type("other").has_value());
    EXPECT_EQ(longmemeval_question_types().size(), 6u);
}

}  // namespace
}  // namespace kasten::eval
