#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "eval/longmemeval_corpus.h"
#include "eval/longmemeval_question.h"
#include "eval/qa_model.h"

namespace kasten::eval {

// LongMemEval's QA stage (REFERENCE.md §1.1; xiaowu0162/LongMemEval src/generation/run_generation.py and
// src/evaluation/evaluate_qa.py, print_qa_metrics.py).

// The Chain-of-Note reader prompt, verbatim from REFERENCE.md §1.1, filled with the history, the question date and the
// question.
std::string longmemeval_reader_prompt(std::string_view history, std::string_view question_date,
                                      std::string_view question);

// Python's json.dumps of a string (ensure_ascii: non-ASCII as \uXXXX, surrogate pairs above U+FFFF; \" \\ \n \r \t \b
// \f; other control characters as \u00XX; invalid UTF-8 as \ufffd).
std::string python_json_quote(std::string_view text);

// The history of the official flat-session / flat-turn reader input (history_format json, useronly false): the top
// `top_k` ranked ids are mapped back to the haystack ("noans" read as "answer"; a repeated session id resolves to its
// last occurrence, as the official dict does); session ids give the whole session, turn ids "<sid>_<n>" give the
// round (turn n and the next turn); each item is the JSON list of its turns ({"role", "content"}, has_answer dropped,
// Python json.dumps formatting) with its session date; items are sorted by date (stably, as strings) and written as
// "\n### Session <i>:\nSession Date: <date>\nSession Content:\n\n<json>\n" blocks. Ids that map to nothing are
// skipped.
std::string longmemeval_history(const LongMemEvalQuestion& question, const std::vector<std::string>& ranked_ids,
                                int top_k, CorpusGranularity granularity);

// The judge prompt of evaluate_qa.py (get_anscheck_prompt): the abstention prompt when `abstention`, else by
// question type. kInvalidArgument for an unknown type.
Result<std::string> longmemeval_judge_prompt(const std::string& question_type, bool abstention,
                                             const std::string& question, const std::string& answer,
                                             const std::string& response);
// The official verdict: 'yes' in the stripped, lower-cased judge reply.
bool longmemeval_judge_correct(std::string_view reply);

// The QA outcome of one question.
struct LongMemEvalQaResult {
    std::string retriever;  // whose ranking fed the reader
    int context_items = 0;  // history items given to the reader
    std::size_t prompt_chars = 0;
    std::string hypothesis;  // the reader's reply, stripped (the official JSONL "hypothesis")
    bool reader_cached = false;
    std::string judge_reply;      // stripped; empty without a judge
    std::optional<bool> correct;  // the judge's verdict
    bool judge_cached = false;
};

// Accuracy as print_qa_metrics.py reports it.
struct LongMemEvalQaAccuracy {
    struct Cell {
        std::int64_t n = 0;
        std::int64_t correct = 0;
        double accuracy() const { return n == 0 ? 0.0 : static_cast<double>(correct) / static_cast<double>(n); }
    };
    std::map<std::string, Cell> by_type;  // every judged question (abstention ones included) under its type
    Cell overall;
    Cell abstention;
    // Mean of the per-type accuracies over the types present (the official mean of six on a full run).
    double task_averaged = 0;
};

// Accumulates verdicts. Not thread-safe.
class LongMemEvalQaScorer {
  public:
    void add(const std::string& question_type, bool abstention, bool correct);
    LongMemEvalQaAccuracy result() const;

  private:
    LongMemEvalQaAccuracy acc_;
};

// What the QA stage needs.
struct LongMemEvalQaOptions {
    std::shared_ptr<QaModel> reader;  // required
    std::shared_ptr<QaModel> judge;   // optional
    std::string retriever;            // whose ranking feeds the reader (one of the run's retrievers)
    int top_k = 10;                   // history items (sessions, or rounds in a turn run)
    int reader_max_tokens = 800;      // the official generation length with CoT
    int judge_max_tokens = 10;
};

}  // namespace kasten::eval
