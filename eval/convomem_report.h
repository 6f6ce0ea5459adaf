#pragma once

#include <map>
#include <string>

#include "common/status.h"
#include "eval/convomem_runner.h"
#include "eval/longmemeval_averages.h"

namespace kasten::eval {

// The outputs of a ConvoMem run, written into one directory:
//   per_question.jsonl - per item: id, folder label, category, judge, context size, question, answer, located
//                        evidence keys and, per retriever, the top message keys, the conversation ranking and recall;
//                        the full vs retrieval prompt sizes; with a reader, each path's hypothesis and verdict;
//   metrics.json       - {"benchmark": "convomem", "data_sha256", "command", "retrievers": {NAME: {"message" |
//                        "conversation": {"all": {"n", "recall@5", ...}, "by_category": {...}, "by_context_size":
//                        {...}}}}, "context_paths": {...}, "qa": {...}, "timing": {...}};
//   report.md          - recall tables (bm25 baseline first), by category and by context size, the full-context vs
//                        retrieval comparison and QA accuracy;
//   recall.svg         - message-level recall@k curves per retriever.
// Recall averages skip items without evidence messages (the count is reported).
class ConvoMemReport {
  public:
    ConvoMemReport(const ConvoMemRun& run, std::string command);

    // retriever → level ("message" | "conversation") → group ("all", "category:<c>", "context:<n>") → means.
    const std::map<std::string, std::map<std::string, std::map<std::string, MetricAverage>>>& averages() const {
        return averages_;
    }
    // path → group → {"accuracy"} means (judged items only).
    const std::map<std::string, std::map<std::string, MetricAverage>>& qa_averages() const { return qa_averages_; }

    std::string metrics_json() const;
    std::string markdown() const;
    std::string recall_svg() const;
    std::string per_question_jsonl() const;
    [[nodiscard]] Status write(const std::string& out_dir) const;

  private:
    std::vector<std::string> retrievers() const;
    std::vector<std::string> groups(const std::string& prefix) const;  // present groups with that prefix, sorted

    const ConvoMemRun& run_;
    std::string command_;
    std::map<std::string, std::map<std::string, std::map<std::string, MetricAverage>>> averages_;
    std::map<std::string, std::map<std::string, MetricAverage>> qa_averages_;
    std::map<std::string, MetricAverage> context_paths_;  // group → {full_chars, retrieval_chars, retrieval_recall}
    std::int64_t without_evidence_ = 0;
    std::int64_t unlocated_evidence_ = 0;
    std::int64_t evidence_messages_ = 0;
};

}  // namespace kasten::eval
