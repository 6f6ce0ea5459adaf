#pragma once

#include <string>
#include <vector>

#include "eval/retrieval_metrics.h"

namespace kasten::eval {

// The official LoCoMo evidence recall (snap-research/locomo task_eval/evaluation.py): the share of the evidence
// entries (as written, duplicates counted) that occur among `retrieved`; 1 when there is no evidence.
double evidence_recall(const std::vector<std::string>& evidence, const std::vector<std::string>& retrieved);

// For each k in `cutoffs`, over the first k keys of `ranked` (all of them when fewer):
//   "recall@k"     = evidence_recall (the official share),
//   "recall_all@k" = 1 when every evidence entry is in the top k (1 without evidence), else 0.
MetricMap score_evidence_ranking(const std::vector<std::string>& ranked, const std::vector<std::string>& evidence,
                                 const std::vector<int>& cutoffs);

// The metric names of score_evidence_ranking in report order: recall@k for each k, then recall_all@k for each k.
std::vector<std::string> evidence_metric_names(const std::vector<int>& cutoffs);

}  // namespace kasten::eval
