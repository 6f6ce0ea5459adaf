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

}  // namespace

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
        std::optional<double>* field = nullptr;
        if (name == "note_key_weight") field = &t.note_key_weight;
        if (name == "temporal_weight") field = &t.temporal_weight;
        if (name == "lexical_weight") field = &t.lexical_weight;
        if (name == "vector_weight") field = &t.vector_weight;
        if (name == "rrf_k") field = &t.rrf_k;
        if (name == "link_decay") field = &t.link_decay;
        if (field == nullptr) {
            return Status::invalid_argument(
                "--tune: unknown setting '" + name +
                "' (note_key_weight, temporal_weight, lexical_weight, vector_weight, fusion, rrf_k, link_decay)");
        }
        KASTEN_ASSIGN_OR_RETURN(const double v, parse_number(name, value));
        if (name == "rrf_k" && v <= 0) return Status::invalid_argument("--tune rrf_k: must be > 0");
        *field = v;
    }
    return t;
}

bool SearchTuning::empty() const {
    return !note_key_weight && !temporal_weight && !lexical_weight && !vector_weight && !fusion && !rrf_k &&
           !link_decay;
}

void SearchTuning::apply(memory::MemoryOptions& options) const {
    if (note_key_weight) options.note_key_weight = *note_key_weight;
    if (temporal_weight) options.temporal_weight = *temporal_weight;
    if (lexical_weight) options.lexical_weight = *lexical_weight;
    if (vector_weight) options.vector_weight = *vector_weight;
    if (fusion) options.fusion = *fusion;
    if (rrf_k) options.rrf_k = *rrf_k;
    if (link_decay) options.link_decay = *link_decay;
}

nlohmann::ordered_json SearchTuning::to_json() const {
    nlohmann::ordered_json j = nlohmann::ordered_json::object();
    if (note_key_weight) j["note_key_weight"] = *note_key_weight;
    if (temporal_weight) j["temporal_weight"] = *temporal_weight;
    if (lexical_weight) j["lexical_weight"] = *lexical_weight;
    if (vector_weight) j["vector_weight"] = *vector_weight;
    if (fusion) j["fusion"] = *fusion == memory::Fusion::kMinMax ? "minmax" : "rrf";
    if (rrf_k) j["rrf_k"] = *rrf_k;
    if (link_decay) j["link_decay"] = *link_decay;
    return j;
}

}  // namespace kasten::eval
