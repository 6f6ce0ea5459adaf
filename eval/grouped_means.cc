#include "eval/grouped_means.h"

namespace kasten::eval {

void GroupedMeans::add(const std::string& group, const MetricMap& metrics) {
    Sum& s = groups_[group];
    ++s.n;
    for (const auto& [name, v] : metrics) {
        s.total[name] += v;
        ++s.count[name];
    }
}

std::map<std::string, MetricAverage> GroupedMeans::result() const {
    std::map<std::string, MetricAverage> out;
    for (const auto& [group, s] : groups_) {
        MetricAverage a;
        a.n = s.n;
        for (const auto& [name, total] : s.total) a.mean[name] = total / static_cast<double>(s.count.at(name));
        out[group] = std::move(a);
    }
    return out;
}

}  // namespace kasten::eval
