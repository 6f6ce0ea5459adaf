#pragma once

#include <string>
#include <utility>
#include <vector>

namespace kasten::eval {

// One curve: (k, value in [0, 1]) points in increasing k.
struct ChartSeries {
    std::string name;
    std::vector<std::pair<int, double>> points;
    bool dashed = false;
    int color = -1;  // palette slot; -1 = the series' position (series of one retriever can share a slot)
};

// A hand-written SVG line chart of metric@k curves (x: the k values of all series, equally spaced; y: 0..1 with
// gridlines every 0.2), a legend and a title. Text is XML-escaped. Pure.
std::string render_recall_chart(const std::string& title, const std::string& y_label,
                                const std::vector<ChartSeries>& series);

}  // namespace kasten::eval
