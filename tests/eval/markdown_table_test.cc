#include "eval/markdown_table.h"

#include <gtest/gtest.h>

namespace kasten::eval {
namespace {

TEST(MarkdownTableTest, HeaderRowHasAlignmentLinePerColumn) {
    EXPECT_EQ(markdown_header_row("retriever", {"recall@5", "recall@10"}),
              "| retriever | n | recall@5 | recall@10 |\n|---|---:|---:|---:|\n");
    EXPECT_EQ(markdown_header_row("type", {}), "| type | n |\n|---|---:|\n");
}

TEST(MarkdownTableTest, ValueRowKeepsCellsVerbatim) {
    EXPECT_EQ(markdown_value_row("all", 12, {"0.500", "–"}), "| all | 12 | 0.500 | – |\n");
}

TEST(MarkdownTableTest, MetricRowFormatsThreeDecimalsAndDashesMissing) {
    MetricAverage a;
    a.n = 3;
    a.mean["recall@5"] = 2.0 / 3.0;
    a.mean["recall@10"] = 1.0;
    EXPECT_EQ(markdown_metric_row("bm25", a, {"recall@5", "recall@10", "recall@25"}),
              "| bm25 | 3 | 0.667 | 1.000 | – |\n");
}

TEST(MarkdownTableTest, MetricCellDashesEmptyAverageAndHonoursFormat) {
    MetricAverage a;
    a.mean["chars"] = 1234.6;
    EXPECT_EQ(metric_cell(a, "chars"), "–");  // n == 0
    a.n = 1;
    EXPECT_EQ(metric_cell(a, "chars", "{:.0f}"), "1235");
    EXPECT_EQ(metric_cell(a, "chars"), "1234.600");
    EXPECT_EQ(metric_cell(a, "absent"), "–");
}

}  // namespace
}  // namespace kasten::eval
