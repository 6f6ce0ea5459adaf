#include "eval/report_json.h"

#include <gtest/gtest.h>

namespace kasten::eval {
namespace {

TEST(ReportJsonTest, MetricAverageKeepsNameOrderAndSkipsAbsent) {
    MetricAverage a;
    a.n = 4;
    a.mean["b"] = 0.25;
    a.mean["a"] = 0.5;
    EXPECT_EQ(metric_average_json(a, {"b", "missing", "a"}).dump(), R"({"n":4,"b":0.25,"a":0.5})");
    EXPECT_EQ(metric_average_json(MetricAverage{}, {"a"}).dump(), R"({"n":0})");
}

TEST(ReportJsonTest, QaCacheJsonHasCallCounts) {
    QaRunInfo info;
    info.cache_path = "/tmp/c.sqlite";
    info.reader_calls = 3;
    info.reader_cache_hits = 1;
    info.judge_calls = 2;
    info.judge_cache_hits = 5;
    EXPECT_EQ(qa_cache_json(info).dump(),
              R"({"path":"/tmp/c.sqlite","reader_calls":3,"reader_cache_hits":1,"judge_calls":2,)"
              R"("judge_cache_hits":5})");
}

TEST(ReportJsonTest, DocumentIsIndentedLineIsCompactBothEndInNewline) {
    nlohmann::ordered_json j;
    j["z"] = 1;
    j["a"] = {1, 2};
    EXPECT_EQ(json_document(j), "{\n  \"z\": 1,\n  \"a\": [\n    1,\n    2\n  ]\n}\n");
    EXPECT_EQ(json_line(j), "{\"z\":1,\"a\":[1,2]}\n");
}

TEST(ReportJsonTest, InvalidUtf8IsReplacedNotThrown) {
    nlohmann::ordered_json j;
    j["s"] = std::string(
        "a\xff"
        "b");
    EXPECT_EQ(json_line(j),
              "{\"s\":\"a\xef\xbf\xbd"
              "b\"}\n");
}

}  // namespace
}  // namespace kasten::eval
