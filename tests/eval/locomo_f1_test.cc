#include "eval/locomo_f1.h"

#include <gtest/gtest.h>

namespace kasten::eval {
namespace {

// Expected values were computed by hand and checked against the official task_eval/evaluation.py functions.

TEST(LocomoF1Test, NormalizesLikeTheOfficialCode) {
    EXPECT_EQ(locomo_normalize_answer("The adoption agencies"), "adoption agencies");
    EXPECT_EQ(locomo_normalize_answer("May 7, 2023"), "may 7 2023");
    EXPECT_EQ(locomo_normalize_answer("An apple and a banana"), "apple banana");
    EXPECT_EQ(locomo_normalize_answer("Not mentioned in the conversation"), "not mentioned in conversation");
    EXPECT_EQ(locomo_normalize_answer("self-care is important"), "selfcare is important");
    // Non-ASCII punctuation stays; the apostrophe goes; "the" is a whole word only.
    EXPECT_EQ(locomo_normalize_answer("Café — the Louvre's café!"), "café — louvres café");
    EXPECT_EQ(locomo_normalize_answer("theatre andrew"), "theatre andrew");
    EXPECT_EQ(locomo_normalize_answer("  \t "), "");
}

TEST(LocomoF1Test, TokenF1WithStemming) {
    EXPECT_DOUBLE_EQ(locomo_f1_score("The adoption agencies", "Adoption agencies"), 1.0);
    // 2 shared of 5 predicted and 2 gold tokens: P 0.4, R 1 → F1 4/7.
    EXPECT_NEAR(locomo_f1_score("She researched adoption agencies and counseling.", "Adoption agencies"), 4.0 / 7.0,
                1e-12);
    EXPECT_DOUBLE_EQ(locomo_f1_score("May 7, 2023", "7 May 2023"), 1.0);
    EXPECT_DOUBLE_EQ(locomo_f1_score("An apple and a banana", "apples, bananas"), 1.0);  // stems appl, banana
    // running/runs → run, ran stays: 1 shared of 3 and 1 → P 1/3, R 1 → 0.5.
    EXPECT_DOUBLE_EQ(locomo_f1_score("running runs ran", "run"), 0.5);
    EXPECT_DOUBLE_EQ(locomo_f1_score("", "something"), 0.0);
    EXPECT_DOUBLE_EQ(locomo_f1_score("café", "the louvre cafe"), 0.0);
}

TEST(LocomoF1Test, CategoryOneAveragesBestMatchesOverCommaParts) {
    // gold parts running, pottery, painting: best matches 1, 0, 1 → 2/3.
    EXPECT_NEAR(locomo_multi_answer_f1("painting, running", "Running, pottery, painting"), 2.0 / 3.0, 1e-12);
    // One prediction part "pottery camping" against each gold part: 2/3, 2/3, 0 → 4/9.
    EXPECT_NEAR(locomo_answer_score(1, "Pottery and camping", "pottery, camping, swimming"), 4.0 / 9.0, 1e-12);
    EXPECT_DOUBLE_EQ(locomo_answer_score(1, "", "a, b"), 0.0);
}

TEST(LocomoF1Test, CategoryRules) {
    EXPECT_DOUBLE_EQ(locomo_answer_score(2, "2022", "2022"), 1.0);
    EXPECT_DOUBLE_EQ(locomo_answer_score(4, "adoption agencies", "Adoption agencies"), 1.0);
    // Category 3: the gold is cut at its first ';'.
    EXPECT_DOUBLE_EQ(locomo_answer_score(3, "Psychology", "Psychology; counseling certification"), 1.0);
    EXPECT_DOUBLE_EQ(locomo_answer_score(3, "likely yes", "Likely yes; since she likes the outdoors"), 1.0);
    EXPECT_DOUBLE_EQ(locomo_answer_score(4, "likely yes", "Likely yes; since she likes the outdoors"), 0.5);
    // Category 5: abstention phrases only, whatever the gold.
    EXPECT_DOUBLE_EQ(locomo_answer_score(5, "Not mentioned in the conversation", "self-care is important"), 1.0);
    EXPECT_DOUBLE_EQ(locomo_answer_score(5, "No information available.", "x"), 1.0);
    EXPECT_DOUBLE_EQ(locomo_answer_score(5, "self-care is important", "self-care is important"), 0.0);
    EXPECT_DOUBLE_EQ(locomo_answer_score(7, "x", "x"), 0.0);
}

}  // namespace
}  // namespace kasten::eval
