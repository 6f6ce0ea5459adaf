#pragma once

#include <map>
#include <string>

#include "eval/longmemeval_averages.h"
#include "eval/retrieval_metrics.h"

namespace kasten::eval {

// Means of per-question metric maps, per named group ("all", a category, a context size, ...). A metric absent from
// some questions is averaged over the questions that have it (MetricAverage::n counts the questions added to the
// group). Not thread-safe.
class GroupedMeans {
  public:
    void add(const std::string& group, const MetricMap& metrics);
    std::map<std::string, MetricAverage> result() const;

  private:
    struct Sum {
        std::int64_t n = 0;
        MetricMap total;
        std::map<std::string, std::int64_t> count;
    };
    std::map<std::string, Sum> groups_;
};

}  // namespace kasten::eval
