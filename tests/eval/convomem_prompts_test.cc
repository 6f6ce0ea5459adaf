#include "eval/convomem_prompts.h"

#include <gtest/gtest.h>

namespace kasten::eval {
namespace {

TEST(ConvoMemPromptsTest, AnswerPromptIsGetModelAnswerPrompt) {
    ConvoMemConversation a{"a", true, {{"User", "I live in Denver"}, {"Assistant", "Nice"}}};
    ConvoMemConversation b{"b", false, {{"User", "Hi"}}};
    EXPECT_EQ(convomem_answer_prompt({a, b}, "Where do I live?"),
              "Answer the question based on the conversations below. If the User in the conversation refers to "
              "themselves (\"I\", \"me\", \"my\"), they are the person being asked about. Be direct and factual.\n\n"
              "Conversation 1:\nUser: I live in Denver\nAssistant: Nice\n\nConversation 2:\nUser: Hi\n\n"
              "Question: Where do I live?\n\nAnswer:");
}

TEST(ConvoMemPromptsTest, JudgeFollowsTheCategory) {
    EXPECT_EQ(convomem_judge_for("locomo_category_1", ""), ConvoMemJudge::kDefault);
    EXPECT_EQ(convomem_judge_for("locomo_category_2", ""), ConvoMemJudge::kTemporal);
    EXPECT_EQ(convomem_judge_for("locomo_category_3", ""), ConvoMemJudge::kRubric);
    EXPECT_EQ(convomem_judge_for("locomo_category_4", ""), ConvoMemJudge::kDefault);
    EXPECT_EQ(convomem_judge_for("locomo_category_5", ""), ConvoMemJudge::kAbstention);
    EXPECT_EQ(convomem_judge_for("user_facts", ""), ConvoMemJudge::kUserFacts);
    EXPECT_EQ(convomem_judge_for("Preferences", ""), ConvoMemJudge::kRubric);
    EXPECT_EQ(convomem_judge_for("implicit_connection", ""), ConvoMemJudge::kRubric);
    EXPECT_EQ(convomem_judge_for("", "abstention_evidence"), ConvoMemJudge::kAbstention);
    EXPECT_EQ(convomem_judge_for("changing", ""), ConvoMemJudge::kDefault);
    EXPECT_EQ(convomem_judge_for("", ""), ConvoMemJudge::kDefault);
}

TEST(ConvoMemPromptsTest, JudgePromptsCarryTheOfficialText) {
    const std::vector<ConvoMemMessage> one = {{"User", "I live in Denver"}};
    const std::string d = convomem_judge_prompt(ConvoMemJudge::kDefault, "Q", "A", "R", one);
    EXPECT_EQ(d.rfind("I will provide you with a **Question**, a **Correct Answer**, and a **Model's Response**.", 0),
              0u);
    EXPECT_NE(d.find("4.  **Partial Answers are Incorrect**"), std::string::npos);
    EXPECT_NE(d.find("\n\nQuestion: Q\nCorrect Answer: A\nModel Response: R\n\nAnswer (RIGHT/WRONG):"),
              std::string::npos);
    const std::string r = convomem_judge_prompt(ConvoMemJudge::kRubric, "Q", "A", "R", one);
    EXPECT_NE(r.find("Question asked: Q\n\nEvaluation rubric: A\n\nModel's response: R\n\nGuidelines:\n- The model's "
                     "response must fully satisfy ALL criteria in the rubric"),
              std::string::npos);
    const std::string t = convomem_judge_prompt(ConvoMemJudge::kTemporal, "Q", "A", "R", one);
    EXPECT_NE(t.find("- Off-by-one errors in day counts are NOT acceptable"), std::string::npos);
    const std::string ab = convomem_judge_prompt(ConvoMemJudge::kAbstention, "Q", "A", "R", one);
    EXPECT_EQ(ab.find("A"), ab.find("ABSTENTION"));  // the answer is not shown to the abstention judge
    EXPECT_NE(ab.find("Question: Q\nExpected behavior: The model should indicate it cannot answer"), std::string::npos);
    const std::string u1 = convomem_judge_prompt(ConvoMemJudge::kUserFacts, "Q", "A", "R", one);
    EXPECT_NE(u1.find("**Question Asked:** \nQ\n\n**Evidence Message Available to the Model:**\nI live in Denver\n"),
              std::string::npos);
    const std::string u2 =
        convomem_judge_prompt(ConvoMemJudge::kUserFacts, "Q", "A", "R", {{"User", "x"}, {"User", "y"}});
    EXPECT_NE(u2.find("Evidence Message 1: x\nEvidence Message 2: y\n"), std::string::npos);
}

TEST(ConvoMemPromptsTest, VerdictRule) {
    EXPECT_EQ(convomem_judge_verdict("RIGHT"), true);
    EXPECT_EQ(convomem_judge_verdict("  right.\n"), true);
    EXPECT_EQ(convomem_judge_verdict("WRONG"), false);
    EXPECT_EQ(convomem_judge_verdict("RIGHT or WRONG"), false);  // both: the official code says false
    EXPECT_EQ(convomem_judge_verdict("maybe"), std::nullopt);
}

}  // namespace
}  // namespace kasten::eval
