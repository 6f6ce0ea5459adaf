#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "eval/retrieval_metrics.h"

namespace kasten::eval {

// The mean of each metric over n questions (empty when n == 0).
struct MetricAverage {
    std::int64_t n = 0;
    MetricMap mean;
};

// The two official averages of one retriever at one level (REFERENCE.md §1.1), overall and per question type:
// - strict (run_retrieval.py): skips abstention questions ("_abs") and questions without user-side evidence;
// - no_abs (print_retrieval_metrics.py): skips only abstention questions; the others enter as scored (no gold gives
//   recall_all 1, recall_any 0, ndcg_any 0).
struct AverageSet {
    MetricAverage strict;
    MetricAverage no_abs;
    std::map<std::string, MetricAverage> strict_by_type;
    std::map<std::string, MetricAverage> no_abs_by_type;
};

// Accumulates per-question metrics into an AverageSet. Not thread-safe.
class LongMemEvalAverager {
  public:
    void add(const std::string& question_type, bool abstention, bool user_side_evidence, const MetricMap& metrics);
    AverageSet result() const;

  private:
    struct Sum {
        std::int64_t n = 0;
        MetricMap total;
        void add(const MetricMap& m);
        MetricAverage mean() const;
    };
    Sum strict_;
    Sum no_abs_;
    std::map<std::string, Sum> strict_by_type_;
    std::map<std::string, Sum> no_abs_by_type_;
};

}  // namespace kasten::eval
