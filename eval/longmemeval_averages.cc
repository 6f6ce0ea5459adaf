#include "eval/longmemeval_averages.h"

namespace kasten::eval {

void LongMemEvalAverager::Sum::add(const MetricMap& m) {
    ++n;
    for (const auto& [name, value] : m) total[name] += value;
}

MetricAverage LongMemEvalAverager::Sum::mean() const {
    MetricAverage a;
    a.n = n;
    if (n == 0) return a;
    for (const auto& [name, value] : total) a.mean[name] = value / static_cast<double>(n);
    return a;
}

void LongMemEvalAverager::add(const std::string& question_type, bool abstention, bool user_side_evidence,
                              const MetricMap& metrics) {
    if (abstention) return;
    no_abs_.add(metrics);
    no_abs_by_type_[question_type].add(metrics);
    if (!user_side_evidence) return;
    strict_.add(metrics);
    strict_by_type_[question_type].add(metrics);
}

AverageSet LongMemEvalAverager::result() const {
    AverageSet out;
    out.strict = strict_.mean();
    out.no_abs = no_abs_.mean();
    for (const auto& [type, sum] : strict_by_type_) out.strict_by_type[type] = sum.mean();
    for (const auto& [type, sum] : no_abs_by_type_) out.no_abs_by_type[type] = sum.mean();
    return out;
}

}  // namespace kasten::eval
