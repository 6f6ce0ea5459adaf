#pragma once

#include <map>
#include <string>

#include "common/status.h"
#include "eval/longmemeval_averages.h"
#include "eval/longmemeval_runner.h"

namespace kasten::eval {

// The outputs of a LongMemEval retrieval run, written into one directory:
//   per_question.jsonl - one JSON object per evaluated question, in file order: ids, type, question, answer, gold ids
//                        and, per retriever, the ranked official ids, the count actually retrieved and the metrics per
//                        level;
//   metrics.json       - {"benchmark": "longmemeval", "data_sha256", "command", "retrievers": {NAME: {LEVEL:
//                        {"strict": {"n", "recall_all@5", ...}, "no_abs": {...}, "by_type": {TYPE: {"strict",
//                        "no_abs"}}}}}, "timing": {...}, ...};
//   report.md          - tables per level and average (the bm25 baseline row first) and per question type;
//   recall.svg         - strict recall_all@k curves per retriever and level;
//   hypotheses.jsonl   - after a QA run, the reader's hypotheses in the official format; metrics.json then has
//                        "qa": {"reader", "judge", "by_type": {TYPE: {"n", "accuracy"}}, "task_averaged", "overall",
//                        "abstention", ...}.
// LEVEL is "session" (and "turn" in turn runs, whose "session" entry scores the turn ranking at session level as the
// official turn→session code does).
class LongMemEvalReport {
  public:
    // Averages are computed here. `run` must outlive the report. `command` is the command line, recorded verbatim.
    LongMemEvalReport(const LongMemEvalRun& run, std::string command);

    // retriever → level → averages.
    const std::map<std::string, std::map<std::string, AverageSet>>& averages() const { return averages_; }

    std::string metrics_json() const;
    std::string markdown() const;
    std::string recall_svg() const;
    std::string per_question_jsonl() const;

    // The official hypotheses JSONL ({"question_id", "hypothesis"} per answered question).
    std::string hypotheses_jsonl() const;
    // Judge accuracy over the judged questions (print_qa_metrics.py).
    LongMemEvalQaAccuracy qa_accuracy() const;

    // Creates `out_dir` when missing and writes the four files (and hypotheses.jsonl after a QA run). kIOError naming
    // the file on failure.
    [[nodiscard]] Status write(const std::string& out_dir) const;

  private:
    // Levels of the run, the primary one first ("session", or "turn" then "session").
    std::vector<std::string> levels() const;
    // Retrievers in report order: bm25 first, then as requested.
    std::vector<std::string> retrievers() const;

    const LongMemEvalRun& run_;
    std::string command_;
    std::map<std::string, std::map<std::string, AverageSet>> averages_;
};

}  // namespace kasten::eval
