#include "eval/markdown_table.h"

#include <fmt/format.h>

namespace kasten::eval {

std::string markdown_header_row(const std::string& first, const std::vector<std::string>& columns) {
    std::string header = "| " + first + " | n |";
    std::string separator = "|---|---:|";
    for (const auto& c : columns) {
        header += " " + c + " |";
        separator += "---:|";
    }
    return header + "\n" + separator + "\n";
}

std::string markdown_value_row(const std::string& first, std::int64_t n, const std::vector<std::string>& cells) {
    std::string row = "| " + first + " | " + std::to_string(n) + " |";
    for (const auto& c : cells) row += " " + c + " |";
    return row + "\n";
}

std::string markdown_metric_row(const std::string& first, const MetricAverage& a,
                                const std::vector<std::string>& columns) {
    std::vector<std::string> cells;
    cells.reserve(columns.size());
    for (const auto& c : columns) cells.push_back(metric_cell(a, c));
    return markdown_value_row(first, a.n, cells);
}

std::string metric_cell(const MetricAverage& a, const std::string& metric, const char* format) {
    auto it = a.mean.find(metric);
    if (a.n == 0 || it == a.mean.end()) return "–";
    return fmt::format(fmt::runtime(format), it->second);
}

}  // namespace kasten::eval
