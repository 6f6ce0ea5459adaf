#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/result.h"
#include "memory/memory_types.h"

namespace kasten::eval {

// Search settings an evaluation run may change from the defaults (`--tune`), so that runs with different values can
// be compared and a value chosen by cross-validation (`kasten eval cv`, eval/cross_validation.h). Each set field
// overrides the MemoryOptions field of the same name in every haystack of the run.
struct SearchTuning {
    std::optional<double> note_key_weight;
    std::optional<double> temporal_weight;
    std::optional<double> lexical_weight;
    std::optional<double> vector_weight;
    std::optional<memory::Fusion> fusion;
    std::optional<double> rrf_k;
    std::optional<double> link_decay;
    std::optional<double> turn_context_weight;
    std::optional<double> session_context_weight;
    std::optional<double> turn_rollup_weight;
    std::optional<double> subquery_weight;
    std::optional<double> second_hop_weight;
    std::optional<double> event_anchor_weight;
    std::optional<double> bm25_k1;
    std::optional<double> bm25_b;

    // The names of the numeric settings, comma-separated (for help and error texts).
    static std::string numeric_names();
    // "name=value[,name=value...]" with the names above; fusion is minmax or rrf; weights are finite and >= 0,
    // rrf_k > 0, bm25_b <= 1. kInvalidArgument naming the bad part.
    [[nodiscard]] static Result<SearchTuning> parse(std::string_view spec);
    bool empty() const;
    void apply(memory::MemoryOptions& options) const;
    // The set fields as a JSON object (empty object when none), for the run's report.
    nlohmann::ordered_json to_json() const;
};

}  // namespace kasten::eval
