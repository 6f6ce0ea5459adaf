#include "api/cli/kv_cache_flags.h"

#include <cstdio>

#include <fmt/format.h>

namespace kasten::api {

std::vector<FlagSpec> kv_cache_flags() {
    return {
        {"kv-policy", "P",
         "KV cache: auto | full | f16 | kivi8 | kivi4 | kivi2 | mixed | streaming | h2o | h2o-q8 | h2o-q4 | snapkv | "
         "pyramidkv | adakv (default auto: full precision, or "
         "the best that fits --kv-budget)"},
        {"kv-budget", "SIZE", "bytes the KV cache may use, e.g. 8MiB (default: no limit)"},
        {"kv-mixed", "H,L,F",
         "mixed KV cache: bits of the salient cells (4|8), of the others (2|4|8) and the salient fraction (default "
         "8,2,0.1)"},
    };
}

Status parse_kv_cache_flags(const ParsedArgs& args, llm::KvCacheOptions* out) {
    if (auto v = args.get("kv-policy")) {
        const std::string names(llm::kv_policy_names());
        const std::string padded = ", " + names + ",";
        if (v->empty() || v->find(',') != std::string::npos || padded.find(", " + *v + ",") == std::string::npos) {
            return Status::invalid_argument(fmt::format("flag --kv-policy: '{}' is not one of {}", *v, names));
        }
        out->policy = *v;
    }
    if (auto v = args.get("kv-budget")) {
        Result<std::size_t> bytes = llm::parse_byte_size(*v);
        if (!bytes.is_ok()) return Status::invalid_argument("flag --kv-budget: " + bytes.status().message());
        if (bytes.value() == 0) return Status::invalid_argument("flag --kv-budget: must be more than 0 bytes");
        out->budget_bytes = bytes.value();
    }
    if (auto v = args.get("kv-mixed")) {
        int high = 0, low = 0;
        double fraction = -1;
        char tail = 0;
        if (std::sscanf(v->c_str(), "%d,%d,%lf%c", &high, &low, &fraction, &tail) != 3 || (high != 4 && high != 8) ||
            (low != 2 && low != 4 && low != 8) || !(fraction >= 0 && fraction <= 1)) {
            return Status::invalid_argument(
                fmt::format("flag --kv-mixed: '{}' is not H,L,F (H 4 or 8, L 2, 4 or 8, F a fraction in [0, 1])", *v));
        }
        out->mixed_high_bits = high;
        out->mixed_low_bits = low;
        out->mixed_salient_fraction = fraction;
    }
    return Status::ok();
}

std::string describe_kv_cache(const llm::KvCache& cache) {
    return fmt::format("KV cache: {}, {:.2f} MiB for {} tokens", cache.name(),
                       static_cast<double>(cache.bytes()) / (1024.0 * 1024.0), cache.capacity());
}

}  // namespace kasten::api
