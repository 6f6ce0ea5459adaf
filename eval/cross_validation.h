#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "common/result.h"

namespace kasten::eval {

// One evaluation run's per-question scores: one metric of one retriever, by question id.
struct CvRun {
    std::string label;  // e.g. the run's directory and its tuning
    std::map<std::string, double> scores;
};

struct CvFold {
    std::size_t questions = 0;  // held out in this fold
    std::size_t chosen = 0;     // index of the run chosen on the other folds
    double train_score = 0;     // the chosen run's mean on the other folds
    double test_score = 0;      // the chosen run's mean on this fold
};

struct CvResult {
    std::size_t questions = 0;      // scored in every run (the others are left out)
    std::vector<double> run_means;  // each run's mean over those questions
    std::vector<CvFold> folds;
    double estimate = 0;            // held-out score of the selection: fold test scores weighted by fold size
    double fold_sd = 0;             // standard deviation of the folds' test scores
    std::vector<int> times_chosen;  // per run
    bool folds_agree = false;       // every fold chose the same run
    std::size_t recommended = 0;    // that run when the folds agree; else run 0 (the default, listed first)
};

// k-fold cross-validation of "pick the run with the best mean score": the questions scored in every run are
// shuffled with `seed` (a fixed Fisher-Yates over a 64-bit Mersenne twister, so a seed gives the same folds on every
// machine) and dealt to `folds` folds; for each fold the run with the best mean on the other folds is chosen (ties:
// the earlier run) and scored on the held-out fold. The estimate says what the choice is worth on questions it did
// not see; when the folds disagree the recommendation stays with the first run (list the default first).
// kInvalidArgument: no runs, folds < 2, or fewer common questions than folds.
[[nodiscard]] Result<CvResult> cross_validate(const std::vector<CvRun>& runs, int folds, std::uint64_t seed);

// A filter on per-question records: the record's `field` (top level) must be one of `values`, compared as JSON text
// ("false", "1", "\"multi-session\"").
struct CvWhere {
    std::string field;
    std::vector<std::string> values;
};

// Reads DIR/per_question.jsonl of a `kasten eval` run: for each record passing every `where`, the number at the
// dotted path `metric` under retrievers.<retriever> (e.g. "metrics.session.recall_all@5" for LongMemEval,
// "dialogue.recall@10" for LoCoMo, "message.recall@10" for ConvoMem), keyed by "question_id" (else "id"). Records
// without that number are skipped. The label is DIR plus the run's tuning from DIR/metrics.json when it has one.
// kNotFound for a missing file, kInvalidArgument for bad JSON (naming the line) or a run without any such number.
[[nodiscard]] Result<CvRun> load_cv_run(const std::string& dir, const std::string& retriever, const std::string& metric,
                                        const std::vector<CvWhere>& where);

}  // namespace kasten::eval
