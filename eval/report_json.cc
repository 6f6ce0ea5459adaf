#include "eval/report_json.h"

namespace kasten::eval {

using ordered_json = nlohmann::ordered_json;

ordered_json metric_average_json(const MetricAverage& a, const std::vector<std::string>& names) {
    ordered_json j;
    j["n"] = a.n;
    for (const auto& name : names) {
        auto it = a.mean.find(name);
        if (it != a.mean.end()) j[name] = it->second;
    }
    return j;
}

ordered_json qa_cache_json(const QaRunInfo& info) {
    return {{"path", info.cache_path},
            {"reader_calls", info.reader_calls},
            {"reader_cache_hits", info.reader_cache_hits},
            {"judge_calls", info.judge_calls},
            {"judge_cache_hits", info.judge_cache_hits}};
}

std::string json_document(const ordered_json& j) {
    return j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

std::string json_line(const ordered_json& j) {
    return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

}  // namespace kasten::eval
