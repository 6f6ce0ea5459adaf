#include "eval/cross_validation.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace kasten::eval {
namespace {

CvRun run_of(const std::string& label, const std::vector<double>& scores) {
    CvRun r;
    r.label = label;
    for (std::size_t i = 0; i < scores.size(); ++i) r.scores["q" + std::to_string(100 + i)] = scores[i];
    return r;
}

TEST(CrossValidationTest, AClearlyBetterRunIsChosenByEveryFold) {
    std::vector<double> base(40, 0.5), better(40, 0.8);
    auto cv = cross_validate({run_of("default", base), run_of("better", better)}, 5, 7);
    ASSERT_TRUE(cv.is_ok()) << cv.status().to_string();
    EXPECT_EQ(cv->questions, 40u);
    ASSERT_EQ(cv->folds.size(), 5u);
    for (const auto& fold : cv->folds) {
        EXPECT_EQ(fold.questions, 8u);
        EXPECT_EQ(fold.chosen, 1u);
        EXPECT_DOUBLE_EQ(fold.test_score, 0.8);
    }
    EXPECT_TRUE(cv->folds_agree);
    EXPECT_EQ(cv->recommended, 1u);
    EXPECT_DOUBLE_EQ(cv->estimate, 0.8);
    EXPECT_DOUBLE_EQ(cv->fold_sd, 0.0);
    EXPECT_EQ(cv->times_chosen, (std::vector<int>{0, 5}));
    EXPECT_DOUBLE_EQ(cv->run_means[0], 0.5);
}

TEST(CrossValidationTest, TiesKeepTheEarlierRun) {
    std::vector<double> same(10, 1.0);
    auto cv = cross_validate({run_of("default", same), run_of("other", same)}, 2, 1);
    ASSERT_TRUE(cv.is_ok());
    EXPECT_TRUE(cv->folds_agree);
    EXPECT_EQ(cv->recommended, 0u);
    EXPECT_EQ(cv->times_chosen, (std::vector<int>{2, 0}));
}

// A run that is better on a few questions only wins some folds and loses others: the folds disagree, the default
// stays, and the held-out estimate is below the best run's in-sample mean (the selection's optimism shows).
TEST(CrossValidationTest, AGainOnAFewQuestionsMakesTheFoldsDisagree) {
    std::vector<double> base(20, 0.5), lucky(20, 0.5);
    lucky[3] = 1.0;  // one question carries the whole gain
    base[11] = 1.0;  // and one other favours the default
    lucky[12] = 1.0;
    auto cv = cross_validate({run_of("default", base), run_of("lucky", lucky)}, 4, 3);
    ASSERT_TRUE(cv.is_ok());
    EXPECT_GT(cv->run_means[1], cv->run_means[0]);
    EXPECT_FALSE(cv->folds_agree);
    EXPECT_EQ(cv->recommended, 0u);
    EXPECT_LT(cv->estimate, cv->run_means[1]);
}

TEST(CrossValidationTest, FoldsDependOnlyOnTheSeed) {
    std::vector<double> a, b;
    for (int i = 0; i < 30; ++i) {
        a.push_back((i * 7) % 10 / 10.0);
        b.push_back((i * 3) % 10 / 10.0);
    }
    auto x = cross_validate({run_of("a", a), run_of("b", b)}, 3, 42);
    auto y = cross_validate({run_of("a", a), run_of("b", b)}, 3, 42);
    ASSERT_TRUE(x.is_ok() && y.is_ok());
    for (std::size_t f = 0; f < 3; ++f) {
        EXPECT_EQ(x->folds[f].chosen, y->folds[f].chosen);
        EXPECT_DOUBLE_EQ(x->folds[f].test_score, y->folds[f].test_score);
    }
}

TEST(CrossValidationTest, OnlyQuestionsScoredInEveryRunCount) {
    CvRun a = run_of("a", {1, 1, 1, 1});
    CvRun b = run_of("b", {0, 0});
    auto cv = cross_validate({a, b}, 2, 1);
    ASSERT_TRUE(cv.is_ok());
    EXPECT_EQ(cv->questions, 2u);
    EXPECT_EQ(cross_validate({a, b}, 3, 1).status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(cross_validate({}, 2, 1).status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(cross_validate({a}, 1, 1).status().code(), StatusCode::kInvalidArgument);
}

// Runs are read from `kasten eval` outputs: per_question.jsonl records, a metric path under the retriever, filters.
TEST(CrossValidationTest, LoadsPerQuestionRecordsWithFiltersAndTheRunsTuning) {
    const auto dir = std::filesystem::temp_directory_path() / ("kasten-cv-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    {
        std::ofstream f(dir / "per_question.jsonl");
        f << R"({"question_id":"a","abstention":false,"retrievers":{"hybrid":{"metrics":{"session":{"recall_all@5":1.0}}}}})"
          << "\n"
          << R"({"question_id":"b","abstention":true,"retrievers":{"hybrid":{"metrics":{"session":{"recall_all@5":0.0}}}}})"
          << "\n"
          << R"({"id":7,"category":2,"abstention":false,"retrievers":{"hybrid":{"metrics":{"session":{"recall_all@5":0.5}}}}})"
          << "\n"
          << R"({"question_id":"c","abstention":false,"retrievers":{"bm25":{}}})"
          << "\n";
        std::ofstream m(dir / "metrics.json");
        m << R"({"tuning":{"note_key_weight":0.25}})";
    }
    auto run = load_cv_run(dir.string(), "hybrid", "metrics.session.recall_all@5", {{"abstention", {"false"}}});
    ASSERT_TRUE(run.is_ok()) << run.status().to_string();
    EXPECT_EQ(run->scores.size(), 2u);
    EXPECT_DOUBLE_EQ(run->scores.at("a"), 1.0);
    EXPECT_DOUBLE_EQ(run->scores.at("7"), 0.5);
    EXPECT_NE(run->label.find("note_key_weight"), std::string::npos);
    EXPECT_EQ(load_cv_run(dir.string(), "vector", "metrics.session.recall_all@5", {}).status().code(),
              StatusCode::kInvalidArgument);
    EXPECT_EQ(load_cv_run((dir / "missing").string(), "hybrid", "x", {}).status().code(), StatusCode::kNotFound);
    std::filesystem::remove_all(dir);
}

// A damaged per_question.jsonl is refused with an error naming the file and the line (blank lines counted).
TEST(CrossValidationTest, ABadLineIsReportedWithTheFileAndLine) {
    const auto dir = std::filesystem::temp_directory_path() / ("kasten-cv-bad-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    const std::string path = (dir / "per_question.jsonl").string();
    const std::string good = R"({"question_id":"a","retrievers":{"hybrid":{"recall@5":1.0}}})";
    auto load_with = [&](const std::string& third_line) {
        std::ofstream(path) << good << "\n\n" << third_line << "\n" << good << "\n";
        return load_cv_run(dir.string(), "hybrid", "recall@5", {});
    };
    ASSERT_TRUE(load_with(good).is_ok());

    auto truncated = load_with(R"({"question_id":"b","retrievers":)");
    ASSERT_FALSE(truncated.is_ok());
    EXPECT_EQ(truncated.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(truncated.status().message().find(path + ":3: not valid JSON"), std::string::npos)
        << truncated.status().message();

    auto not_object = load_with(R"(["question_id","b"])");
    ASSERT_FALSE(not_object.is_ok());
    EXPECT_EQ(not_object.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(not_object.status().message().find(path + ":3: not a JSON object"), std::string::npos)
        << not_object.status().message();
    std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace kasten::eval
