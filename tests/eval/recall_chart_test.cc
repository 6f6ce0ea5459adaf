#include "eval/recall_chart.h"

#include <gtest/gtest.h>

namespace kasten::eval {
namespace {

int count(const std::string& text, const std::string& what) {
    int n = 0;
    for (size_t pos = text.find(what); pos != std::string::npos; pos = text.find(what, pos + 1)) ++n;
    return n;
}

TEST(RecallChartTest, OnePolylineAndLegendEntryPerSeries) {
    std::vector<ChartSeries> series = {
        {"bm25", {{1, 0.2}, {5, 0.7}, {50, 1.0}}, false},
        {"hybrid <turn> & co", {{1, 0.3}, {5, 0.9}, {50, 1.0}}, true},
    };
    std::string svg = render_recall_chart("recall \"all\"", "recall_all@k", series);
    EXPECT_EQ(svg.rfind("<svg", 0), 0u);
    EXPECT_NE(svg.find("</svg>"), std::string::npos);
    EXPECT_EQ(count(svg, "<polyline"), 2);
    EXPECT_EQ(count(svg, "<circle"), 6);
    EXPECT_EQ(count(svg, "stroke-dasharray"), 2);  // the dashed series' line and its legend sample
    EXPECT_NE(svg.find("hybrid &lt;turn&gt; &amp; co"), std::string::npos);
    EXPECT_NE(svg.find("recall &quot;all&quot;"), std::string::npos);
    EXPECT_EQ(svg.find("<turn>"), std::string::npos);
    // x ticks for 1, 5, 50 and y ticks 0.0 .. 1.0
    EXPECT_NE(svg.find(">50</text>"), std::string::npos);
    EXPECT_NE(svg.find(">1.0</text>"), std::string::npos);
}

TEST(RecallChartTest, ValuesMapToTheirHeight) {
    // y = top + height * (1 - v): 0 at the bottom axis (380), 1 at the top (50).
    std::string svg = render_recall_chart("t", "y", {{"s", {{1, 0.0}, {3, 1.0}}, false}});
    EXPECT_NE(svg.find("points=\"70.0,380.0 520.0,50.0\""), std::string::npos) << svg;
}

TEST(RecallChartTest, SeriesCanShareAColorSlot) {
    std::vector<ChartSeries> series = {{"a (turn)", {{1, 0.1}}, true, 1}, {"a (session)", {{1, 0.2}}, false, 1}};
    std::string svg = render_recall_chart("t", "y", series);
    EXPECT_EQ(count(svg, "stroke=\"#1f77b4\""), 4);  // two polylines and two legend samples in slot 1's color
    EXPECT_EQ(count(svg, "stroke=\"#555555\""), 0);
}

}  // namespace
}  // namespace kasten::eval
