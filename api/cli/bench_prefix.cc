#include "api/cli/bench_prefix.h"

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/cli/bench_flags.h"
#include "memory/activation_benchmark.h"

namespace kasten::api {
namespace {

constexpr const char* kUsage = R"(kasten bench prefix:
Activation memory: time to first token of a chat exchange whose ~N-token pinned prefix (system prompt and memory
preamble) is recomputed, against one whose prefix is loaded from the cube's kv_segments (SQLite on disk). A random
model with SmolLM2-135M shapes (Q8_0) is written to the work directory; both ways run in every round, in
alternating order, with the model's cache emptied before each. Prints a table on stderr (unless --json) and one
JSON object on stdout, and writes the JSON to --out.

options:
  --prefix-tokens N  pinned prefix length to aim at (default 2048)
  --policies LIST    KV cache policies, comma-separated (default full,f16; kivi8, kivi4, kivi2 also save)
  --rounds N         rounds per policy (default 5)
  --threads N        decoder threads (default 2)
  --work-dir DIR     where the model and the store are written (default: a temporary directory, removed)
  --out FILE         where to write the JSON (default bench-prefix.json)
  --json             print only the JSON

example:
  kasten bench prefix --rounds 5 --out bench-prefix.json
)";

nlohmann::json to_json(const memory::ActivationBenchmarkReport& r) {
    nlohmann::json rows = nlohmann::json::array();
    for (const auto& row : r.rows) {
        rows.push_back({{"cache", row.cache},
                        {"prefix_tokens", row.prefix_tokens},
                        {"prompt_tokens", row.prompt_tokens},
                        {"segment_bytes", row.segment_bytes},
                        {"store_ms", row.store_ms},
                        {"recompute_ms", row.recompute_ms},
                        {"loaded_ms", row.loaded_ms},
                        {"load_ms", row.load_ms},
                        {"recompute_median_ms", row.recompute_median_ms},
                        {"loaded_median_ms", row.loaded_median_ms},
                        {"load_median_ms", row.load_median_ms},
                        {"ratio", row.ratio}});
    }
    return {{"benchmark", "prefix"},
            {"model", "135M-shape Q8_0 (random weights)"},
            {"measure", "time to first token (ms): recompute vs loaded pinned prefix"},
            {"rows", rows},
            {"seconds", r.seconds}};
}

}  // namespace

const char* bench_prefix_usage() {
    return kUsage;
}

int run_bench_prefix(int argc, char** argv) {
    std::string out_path = "bench-prefix.json", work_dir, policies = "full,f16";
    long long prefix_tokens = 2048, rounds = 5, threads = 2;
    bool json_only = false;
    BenchFlags flags("bench prefix", kUsage);
    flags.text("--out", &out_path);
    flags.text("--work-dir", &work_dir);
    flags.text("--policies", &policies);
    flags.integer("--prefix-tokens", &prefix_tokens);
    flags.integer("--rounds", &rounds);
    flags.integer("--threads", &threads);
    flags.toggle("--json", &json_only);
    if (auto o = flags.parse(argc, argv, 2); o != BenchFlags::Outcome::kParsed) return BenchFlags::exit_code(o);
    if (prefix_tokens < 64 || prefix_tokens > 65536 || rounds < 1 || rounds > 1000 || threads < 1 || threads > 256) {
        std::cerr << "kasten bench prefix: --prefix-tokens 64..65536, --rounds 1..1000, --threads 1..256\n";
        return 2;
    }
    memory::ActivationBenchmarkOptions options;
    options.prefix_tokens = static_cast<int>(prefix_tokens);
    options.rounds = static_cast<int>(rounds);
    options.threads = static_cast<int>(threads);
    options.policies.clear();
    {
        std::stringstream in(policies);
        std::string item;
        while (std::getline(in, item, ',')) {
            if (!item.empty()) options.policies.push_back(item);
        }
    }
    if (options.policies.empty()) {
        std::cerr << "kasten bench prefix: --policies names no policy\n";
        return 2;
    }
    const bool own_work_dir = work_dir.empty();
    if (own_work_dir) {
        work_dir =
            (std::filesystem::temp_directory_path() /
             ("kasten-bench-prefix-" + std::to_string(std::chrono::steady_clock::now().time_since_epoch().count())))
                .string();
    }
    options.work_dir = work_dir;
    if (!json_only) options.progress = [](std::string_view line) { std::cerr << "bench: " << line << "\n"; };
    Result<memory::ActivationBenchmarkReport> report = memory::run_activation_benchmark(options);
    std::error_code ec;
    if (own_work_dir) std::filesystem::remove_all(work_dir, ec);
    if (!report.is_ok()) {
        std::cerr << "kasten bench prefix: " << report.status().to_string() << "\n";
        return 1;
    }
    if (!json_only) std::cerr << report.value().to_text();
    const std::string text = to_json(report.value()).dump(2);
    std::cout << text << std::endl;
    std::ofstream out(out_path);
    if (!out || !(out << text << "\n")) {
        std::cerr << "kasten bench prefix: cannot write " << out_path << "\n";
        return 1;
    }
    if (!json_only) std::cerr << "written to " << out_path << "\n";
    return 0;
}

}  // namespace kasten::api
