#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "eval/longmemeval_averages.h"
#include "eval/qa_model.h"

namespace kasten::eval {

// The JSON encodings shared by the evaluation reports (metrics.json, per_question.jsonl). Key order is insertion
// order; invalid UTF-8 in strings is replaced with U+FFFD, never thrown. Pure.

// {"n": a.n, <name>: mean, ...} for the names present in `a`, in the order of `names`.
nlohmann::ordered_json metric_average_json(const MetricAverage& a, const std::vector<std::string>& names);

// {"path", "reader_calls", "reader_cache_hits", "judge_calls", "judge_cache_hits"} of a QA run.
nlohmann::ordered_json qa_cache_json(const QaRunInfo& info);

// `j` indented by 2 spaces, ending in "\n" (a metrics.json document).
std::string json_document(const nlohmann::ordered_json& j);

// `j` on one line, ending in "\n" (a JSONL record).
std::string json_line(const nlohmann::ordered_json& j);

}  // namespace kasten::eval
