#pragma once

#include <string>
#include <vector>

#include "eval/longmemeval_averages.h"

namespace kasten::eval {

// Rows of the Markdown pipe tables in evaluation reports: a text first column, an "n" column, then right-aligned
// value columns. Every row ends in "\n". Pure.

// "| <first> | n | <c1> | ... |\n|---|---:|---:|...\n" — the header line and its alignment line.
std::string markdown_header_row(const std::string& first, const std::vector<std::string>& columns);

// "| <first> | <n> | <cell1> | ... |\n" with the cells as given.
std::string markdown_value_row(const std::string& first, std::int64_t n, const std::vector<std::string>& cells);

// markdown_value_row with one metric_cell per column (each column is a metric name of `a`).
std::string markdown_metric_row(const std::string& first, const MetricAverage& a,
                                const std::vector<std::string>& columns);

// `metric` of `a` formatted with the fmt `format` (3 decimals by default); "–" when a.n is 0 or the metric is absent.
std::string metric_cell(const MetricAverage& a, const std::string& metric, const char* format = "{:.3f}");

}  // namespace kasten::eval
