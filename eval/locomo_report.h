#pragma once

#include <map>
#include <string>

#include "common/status.h"
#include "eval/locomo_runner.h"
#include "eval/longmemeval_averages.h"

namespace kasten::eval {

// The outputs of a LoCoMo run, written into one directory:
//   per_question.jsonl - per question: id, category (id and meaning), question, gold answer, evidence dia_ids and,
//                        per retriever, the top dialogue dia_ids, the session ranking ("S<n>") and the recall metrics;
//                        with a reader, per context path the reply, recorded answer, F1 and J verdict;
//   metrics.json       - {"benchmark": "locomo", "data_sha256", "command", "retrievers": {NAME: {"dialogue"|"session":
//                        {"all": {"n", "recall@5", ...}, "cats_1_4": {...}, "by_category": {"1": {...}, ...}}}},
//                        "qa": {...}, "timing": {...}};
//   report.md          - recall tables per level (bm25 baseline first), by category under the real meanings, QA;
//   recall.svg         - recall@k curves per retriever, dialogue (solid) and session (dashed).
class LocomoReport {
  public:
    // `run` must outlive the report; `command` is recorded verbatim.
    LocomoReport(const LocomoRun& run, std::string command);

    // retriever → level ("dialogue" | "session") → group ("all", "cats_1_4", "1".."5") → means.
    const std::map<std::string, std::map<std::string, std::map<std::string, MetricAverage>>>& averages() const {
        return averages_;
    }
    // context path → group → {"f1", and "judge" where judged} means.
    const std::map<std::string, std::map<std::string, MetricAverage>>& qa_averages() const { return qa_averages_; }

    std::string metrics_json() const;
    std::string markdown() const;
    std::string recall_svg() const;
    std::string per_question_jsonl() const;
    // Creates `out_dir` when missing and writes the four files. kIOError naming the file on failure.
    [[nodiscard]] Status write(const std::string& out_dir) const;

  private:
    std::vector<std::string> retrievers() const;  // bm25 first

    const LocomoRun& run_;
    std::string command_;
    std::map<std::string, std::map<std::string, std::map<std::string, MetricAverage>>> averages_;
    std::map<std::string, std::map<std::string, MetricAverage>> qa_averages_;
};

}  // namespace kasten::eval
