#include "eval/search_tuning.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <string>

namespace kasten::eval {
namespace {

Result<double> parse_number(const std::string& name, const std::string& text) {
    errno = 0;
    char* end = nullptr;
    const double v = std::strtod(text.c_str(), &end);
    if (text.empty() || end != text.c_str() + text.size() || errno != 0 || !std::isfinite(v)) {
        return Status::invalid_argument("--tune " + name + ": '" + text + "' is not a number");
    }
    if (v < 0) return Status::invalid_argument("--tune " + name + ": must be >= 0, not " + text);
    return v;
}

// Each numeric setting: its name, its field here and the MemoryOptions field it overrides.
struct NumericSetting {
    const char* name;
    std::optional<double> SearchTuning::*tuned;
    double memory::MemoryOptions::*option;
};

constexpr NumericSetting kNumericSettings[] = {
    {"note_key_weight", &SearchTuning::note_key_weight, &memory::MemoryOptions::note_key_weight},
    {"temporal_weight", &SearchTuning::temporal_weight, &memory::MemoryOptions::temporal_weight},
    {"lexical_weight", &SearchTuning::lexical_weight, &memory::MemoryOptions::lexical_weight},
    {"vector_weight", &SearchTuning::vector_weight, &memory::MemoryOptions::vector_weight},
    {"rrf_k", &SearchTuning::rrf_k, &memory::MemoryOptions::rrf_k},
    {"link_decay", &SearchTuning::link_decay, &memory::MemoryOptions::link_decay},
    {"turn_context_weight", &SearchTuning::turn_context_weight, &memory::MemoryOptions::turn_context_weight},
    {"session_context_weight", &SearchTuning::session_context_weight, &memory::MemoryOptions::session_context_weight},
    {"turn_rollup_weight", &SearchTuning::turn_rollup_weight, &memory::MemoryOptions::turn_rollup_weight},
    {"subquery_weight", &SearchTuning::subquery_weight, &memory::MemoryOptions::subquery_weight},
    {"second_hop_weight", &SearchTuning::second_hop_weight, &memory::MemoryOptions::second_hop_weight},
    {"event_anchor_weight", &SearchTuning::event_anchor_weight, &memory::MemoryOptions::event_anchor_weight},
    {"bm25_k1", &SearchTuning::bm25_k1, &memory::MemoryOptions::bm25_k1},
    {"bm25_b", &SearchTuning::bm25_b, &memory::MemoryOptions::bm25_b},
};

}  // namespace

std::string SearchTuning::numeric_names() {
    std::string names;
    for (const auto& s : kNumericSettings) {
        if (!names.empty()) names += ", ";
        names += s.name;
    }
    return names;
}

Result<SearchTuning> SearchTuning::parse(std::string_view spec) {
    SearchTuning t;
    std::size_t start = 0;
    while (start <= spec.size()) {
        const std::size_t comma = std::min(spec.find(',', start), spec.size());
        const std::string part(spec.substr(start, comma - start));
        start = comma + 1;
        if (part.empty()) {
            if (comma == spec.size()) break;
            return Status::invalid_argument("--tune: empty setting in '" + std::string(spec) + "'");
        }
        const std::size_t eq = part.find('=');
        if (eq == std::string::npos) {
            return Status::invalid_argument("--tune: '" + part + "' is not name=value");
        }
        const std::string name = part.substr(0, eq);
        const std::string value = part.substr(eq + 1);
        if (name == "fusion") {
            if (value == "minmax") {
                t.fusion = memory::Fusion::kMinMax;
            } else if (value == "rrf") {
                t.fusion = memory::Fusion::kReciprocalRank;
            } else {
                return Status::invalid_argument("--tune fusion: minmax or rrf, not '" + value + "'");
            }
            continue;
        }
        const NumericSetting* setting = nullptr;
        for (const auto& candidate : kNumericSettings) {
            if (name == candidate.name) setting = &candidate;
        }
        if (setting == nullptr) {
            return Status::invalid_argument("--tune: unknown setting '" + name + "' (" + numeric_names() + ", fusion)");
        }
        KASTEN_ASSIGN_OR_RETURN(const double v, parse_number(name, value));
        if (name == "rrf_k" && v <= 0) return Status::invalid_argument("--tune rrf_k: must be > 0");
        if (name == "bm25_b" && v > 1) return Status::invalid_argument("--tune bm25_b: must be in [0, 1]");
        t.*(setting->tuned) = v;
    }
    return t;
}

bool SearchTuning::empty() const {
    if (fusion) return false;
    for (const auto& setting : kNumericSettings) {
        if (this->*(setting.tuned)) return false;
    }
    return true;
}

void SearchTuning::apply(memory::MemoryOptions& options) const {
    if (fusion) options.fusion = *fusion;
    for (const auto& setting : kNumericSettings) {
        if (const auto& v = this->*(setting.tuned)) options.*(setting.option) = *v;
    }
}

nlohmann::ordered_json SearchTuning::to_json() const {
    nlohmann::ordered_json j = nlohmann::ordered_json::object();
    for (const auto& setting : kNumericSettings) {
        if (const auto& v = this->*(setting.tuned)) j[setting.name] = *v;
    }
    if (fusion) j["fusion"] = *fusion == memory::Fusion::kMinMax ? "minmax" : "rrf";
    return j;
}

}  // namespace kasten::eval
