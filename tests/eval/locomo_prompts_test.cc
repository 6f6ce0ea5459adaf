#include "eval/locomo_prompts.h"

#include <gtest/gtest.h>

#include "locomo_fixture.h"

namespace kasten::eval {
namespace {

class LocomoPromptsTest : public ::testing::Test {
  protected:
    void SetUp() override {
        auto s = parse_locomo_json(testing::locomo_fixture().dump(), "fixture");
        ASSERT_TRUE(s.is_ok()) << s.status().to_string();
        samples_ = std::move(s).value();
    }
    std::vector<LocomoSample> samples_;
};

TEST_F(LocomoPromptsTest, ReaderPromptIsTheOfficialQaPrompt) {
    const LocomoQuestion& q = samples_[0].qa[0];
    EXPECT_EQ(
        locomo_reader_prompt("CONTEXT", q, true),
        "CONTEXT\n\n\nBased on the above context, write an answer in the form of a short phrase for the following "
        "question. Answer with exact words from the context whenever possible.\n\nQuestion: What breed is "
        "Biscuit? Short answer:\n");
    // Category 2 gets the date hint.
    EXPECT_EQ(locomo_reader_question(samples_[0].qa[1], true),
              "When did Bob start pottery classes? Use DATE of CONVERSATION to answer with an approximate date.");
}

TEST_F(LocomoPromptsTest, CategoryFiveOffersTheTwoOptions) {
    const LocomoQuestion& q = samples_[0].qa[3];
    EXPECT_EQ(
        locomo_reader_question(q, true),
        "What is Alice's cat named? Select the correct answer: (a) Not mentioned in the conversation (b) Whiskers. ");
    EXPECT_EQ(
        locomo_reader_question(q, false),
        "What is Alice's cat named? Select the correct answer: (a) Whiskers (b) Not mentioned in the conversation. ");
    EXPECT_EQ(locomo_reader_prompt("C", q, true),
              "C\n\n\nBased on the above context, answer the following question.\n\nQuestion: What is Alice's cat "
              "named? Select the correct answer: (a) Not mentioned in the conversation (b) Whiskers.  Short answer:\n");
    // get_cat_5_answer: a bare letter or "(x)" maps to the option; anything else is lower-cased.
    EXPECT_EQ(locomo_recorded_answer(q, " a\n", true), "Not mentioned in the conversation");
    EXPECT_EQ(locomo_recorded_answer(q, "(b)", true), "Whiskers");
    EXPECT_EQ(locomo_recorded_answer(q, "(a)", false), "Whiskers");
    EXPECT_EQ(locomo_recorded_answer(q, "It is Whiskers", true), "it is whiskers");
    EXPECT_EQ(locomo_recorded_answer(samples_[0].qa[0], "  Corgi \n", true), "Corgi");
    // The draw is deterministic per question.
    EXPECT_EQ(locomo_not_mentioned_first("conv-a", 3), locomo_not_mentioned_first("conv-a", 3));
}

TEST_F(LocomoPromptsTest, RagContextIsDateColonDialogLinesInRankOrder) {
    EXPECT_EQ(locomo_rag_context(samples_[0], {{1, 2}, {0, 0}}),
              "10:04 am on 19 June, 2023: Bob said, \"My teacher's name was Rosa\"\n"
              "1:56 pm on 8 May, 2023: Alice said, \"I adopted a puppy named Biscuit\"");
}

TEST_F(LocomoPromptsTest, FullContextFollowsGetInputContext) {
    EXPECT_EQ(locomo_full_context(samples_[1]),
              "Below is a conversation between two people: Carol and Dan. The conversation takes place over multiple "
              "days and the date of each conversation is wriiten at the beginning of the conversation.\n\n"
              "DATE: 12:00 am on 1 January, 2024\nCONVERSATION:\nCarol said, \"Happy new year Dan\"\nDan said, \"Happy "
              "new year\"\n\n\n");
    const std::string a = locomo_full_context(samples_[0]);
    // Sessions in order, each headed by its date; image turns followed by their caption; trailing newlines pile up
    // at the end as the official loop leaves them.
    EXPECT_NE(a.find("DATE: 1:56 pm on 8 May, 2023\nCONVERSATION:\nAlice said, \"I adopted a puppy named Biscuit\"\n"),
              std::string::npos);
    EXPECT_NE(
        a.find("Alice said, \"Biscuit is a corgi\"\n[shares a photo of a small dog]\nDATE: 10:04 am on 19 June, 2023"),
        std::string::npos);
    EXPECT_TRUE(a.size() > 6 && a.compare(a.size() - 5, 5, "\n\n\n\n\n") == 0);
}

TEST(LocomoJudgeTest, PromptIsMem0sAccuracyPrompt) {
    const std::string p = locomo_judge_prompt("Q?", "gold", "generated");
    EXPECT_EQ(p.rfind("\nYour task is to label an answer to a question as ’CORRECT’ or ’WRONG’.", 0), 0u);
    EXPECT_NE(p.find("    (1) a question (posed by one user to another user), \n"), std::string::npos);
    EXPECT_NE(p.find("Question: Q?\nGold answer: gold\nGenerated answer: generated\n\n"), std::string::npos);
    EXPECT_NE(p.find("it should be counted as CORRECT. \n\nFor time related questions"), std::string::npos);
    const std::string tail = "Just return the label CORRECT or WRONG in a json format with the key as \"label\".\n";
    EXPECT_EQ(p.substr(p.size() - tail.size()), tail);
}

TEST(LocomoJudgeTest, ReadsTheJsonLabel) {
    EXPECT_EQ(locomo_judge_label("{\"label\": \"CORRECT\"}"), true);
    EXPECT_EQ(locomo_judge_label("```json\n{\"label\": \"WRONG\"}\n```"), false);
    EXPECT_EQ(locomo_judge_label("The answer names the same breed. {\"label\": \"CORRECT\"}"), true);
    EXPECT_EQ(locomo_judge_label("CORRECT"), std::nullopt);
    EXPECT_EQ(locomo_judge_label(""), std::nullopt);
}

}  // namespace
}  // namespace kasten::eval
