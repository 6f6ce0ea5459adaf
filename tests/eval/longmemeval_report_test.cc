#include "eval/longmemeval_report.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <sstream>

#include "eval_fixture.h"

namespace kasten::eval {
namespace {

// A hand-made run: two retrievers, three questions (one without user-side evidence, one abstention).
LongMemEvalRun make_run() {
    LongMemEvalRun run;
    run.options.data_path = "data.json";
    run.options.retrievers = {"hybrid", "bm25"};  // the report puts bm25 first anyway
    run.options.threads = 2;
    run.data_sha256 = std::string(64, 'a');
    run.questions_in_file = 3;
    run.wall_seconds = 2;
    auto add = [&](const std::string& id, const std::string& type, bool abs, bool evidence, double bm25_r5,
                   double hybrid_r5) {
        QuestionResult q;
        q.question_id = id;
        q.question_type = type;
        q.abstention = abs;
        q.user_side_evidence = evidence;
        q.gold_ids = {"answer_x"};
        for (auto [name, v] : {std::pair<std::string, double>{"hybrid", hybrid_r5}, {"bm25", bm25_r5}}) {
            RetrieverResult r;
            r.retriever = name;
            r.ranked_ids = {"answer_x", "other"};
            r.retrieved = 2;
            r.metrics["session"] = {{"recall_all@5", v}, {"ndcg_any@5", v / 2}};
            q.retrievers.push_back(r);
        }
        run.questions.push_back(q);
    };
    add("q1", "multi-session", false, true, 0.0, 1.0);
    add("q2", "single-session-assistant", false, false, 1.0, 1.0);
    add("q3_abs", "multi-session", true, true, 0.0, 0.0);
    return run;
}

TEST(LongMemEvalReportTest, MetricsJsonHasTheAgreedShape) {
    LongMemEvalRun run = make_run();
    LongMemEvalReport report(run, "kasten eval longmemeval --data data.json --out out");
    auto j = nlohmann::json::parse(report.metrics_json());
    EXPECT_EQ(j["benchmark"], "longmemeval");
    EXPECT_EQ(j["data_sha256"], std::string(64, 'a'));
    EXPECT_EQ(j["command"], "kasten eval longmemeval --data data.json --out out");
    const auto& bm25 = j["retrievers"]["bm25"]["session"];
    EXPECT_EQ(bm25["strict"]["n"], 1);
    EXPECT_EQ(bm25["strict"]["recall_all@5"], 0.0);
    EXPECT_EQ(bm25["no_abs"]["n"], 2);
    EXPECT_EQ(bm25["no_abs"]["recall_all@5"], 0.5);
    EXPECT_EQ(bm25["by_type"]["single-session-assistant"]["no_abs"]["n"], 1);
    EXPECT_EQ(bm25["by_type"]["single-session-assistant"]["strict"]["n"], 0);
    EXPECT_EQ(j["retrievers"]["hybrid"]["session"]["strict"]["recall_all@5"], 1.0);
    EXPECT_EQ(j["retrievers"].begin().key(), "bm25");
    EXPECT_TRUE(j["timing"].contains("wall_seconds"));
    EXPECT_EQ(j["questions"]["without_user_side_evidence"], 1);
}

TEST(LongMemEvalReportTest, MarkdownPutsTheBaselineFirstAndStatesN) {
    LongMemEvalRun run = make_run();
    std::string md = LongMemEvalReport(run, "cmd").markdown();
    size_t strict = md.find("## session level — strict average");
    ASSERT_NE(strict, std::string::npos);
    size_t bm25_row = md.find("| bm25 (baseline) | 1 |", strict);
    size_t hybrid_row = md.find("| hybrid | 1 |", strict);
    ASSERT_NE(bm25_row, std::string::npos);
    ASSERT_NE(hybrid_row, std::string::npos);
    EXPECT_LT(bm25_row, hybrid_row);
    EXPECT_NE(md.find("## session level — no_abs average"), std::string::npos);
    EXPECT_NE(md.find("| MS · bm25 (baseline) | 1 |"), std::string::npos);
    EXPECT_NE(md.find("| SSA · hybrid | 1 |"), std::string::npos);  // in the no_abs by-type table
}

TEST(LongMemEvalReportTest, WritesTheFourFiles) {
    testing::TempDir dir;
    LongMemEvalRun run = make_run();
    LongMemEvalReport report(run, "cmd");
    std::string out = dir.file("out/nested");
    ASSERT_TRUE(report.write(out).is_ok());
    for (const char* f : {"per_question.jsonl", "metrics.json", "report.md", "recall.svg"}) {
        EXPECT_TRUE(std::filesystem::exists(std::filesystem::path(out) / f)) << f;
    }
    std::istringstream lines(testing::read_file(out + "/per_question.jsonl"));
    std::string line;
    int n = 0;
    while (std::getline(lines, line)) {
        auto j = nlohmann::json::parse(line);
        EXPECT_TRUE(j.contains("question_id"));
        EXPECT_EQ(j["retrievers"]["bm25"]["ranked_ids"][0], "answer_x");
        EXPECT_TRUE(j["retrievers"]["hybrid"]["metrics"]["session"].contains("recall_all@5"));
        ++n;
    }
    EXPECT_EQ(n, 3);
    EXPECT_NE(testing::read_file(out + "/recall.svg").find("<polyline"), std::string::npos);
}

}  // namespace
}  // namespace kasten::eval
