#include "api/cli/bench_kv.h"

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/cli/bench_flags.h"
#include "llm/kv_benchmark.h"

namespace kasten::api {
namespace {

constexpr const char* kUsage = R"(kasten bench kv:
Measures every KV cache (f16, KIVI 8/4/2-bit with f16 windows of 0 and 32 tokens, StreamingLLM and H2O at a half,
a quarter and an eighth of the context, mixed precision at several salient fractions) against the full-precision cache. Quality: stories260K writes --samples
texts at temperature 1 (seeds 1..N) filling its 512-token context; each is teacher-forced token by token through
every cache: mean and max KL(full || cache) of the next-token distributions, top-1 agreement, perplexity, bytes
per token. The eviction policies (streaming, h2o, snapkv, pyramidkv, adakv) are measured again with the first half
of each text evaluated as one prompt batch (rows ending in -pN, N = half of --ctx), since SnapKV selects at a
prefill; PyramidKV also with slopes beta 2, 5 and 20 (-betaN). Quality rows give the cache's bytes as
constructed and its peak (a prompt batch is stored before an eviction cache evicts, so it holds budget + batch
cells for a moment). Speed: decode tok/s of a random model with SmolLM2-135M shapes (Q8_0, written to a temporary
directory) with the cache prefilled to each --contexts length, every cache beside F16 in the same run (rounds
alternate over the caches; the best round counts), and one token's attention alone on one thread (every layer and
KV head over the whole context, best of three), and the commit() of the prefill's last 64-token batch (the
eviction caches' batch attends with random queries first, so H2O scores it and SnapKV votes). Prints tables on stderr (unless --json) and one JSON object
on stdout, and writes the JSON to --out.

options:
  --model FILE       stories260K GGUF (default data/models/stories260K/stories260K-tok512.gguf)
  --ctx N            quality context in tokens (default 512, stories260K's training length)
  --samples N        texts (default 4)
  --tokens N         tokens per text (default: --ctx)
  --contexts LIST    speed contexts, comma-separated (default 64,2048,8192,16384)
  --threads N        decoder threads for the speed runs (default 2)
  --steps N          timed decode steps per speed run (default 16)
  --rounds N         speed rounds (default 2)
  --no-speed         quality only
  --only TEXT        only the caches whose label contains TEXT (f16 always), e.g. mixed
  --sim LIST         quality of these quantization schemes instead (';'-separated, SimKvSpec keys in
                     llm/sim_kv_cache.h, e.g. "k=4,v=4,kchan=1,kg=32,win=32"), simulated in f32 (a prototype)
  --work-dir DIR     where the 135M-shaped model is written (default: a temporary directory)
  --out FILE         where to write the JSON (default bench-kv.json)
  --plot FILE        also write the quality plot (bytes per token against mean KL) as SVG
  --json             print only the JSON

example:
  kasten bench kv --model data/models/stories260K/stories260K-tok512.gguf --out bench-kv.json
)";

nlohmann::json to_json(const llm::KvBenchmarkReport& r) {
    nlohmann::json quality = nlohmann::json::array(), speed = nlohmann::json::array();
    for (const auto& q : r.quality) {
        quality.push_back({{"cache", q.cache},
                           {"policy", q.policy},
                           {"bytes", q.bytes},
                           {"peak_bytes", q.peak_bytes},
                           {"bytes_per_token", q.bytes_per_token},
                           {"f16_ratio", q.f16_ratio},
                           {"mean_kl", q.mean_kl},
                           {"max_kl", q.max_kl},
                           {"top1_agreement", q.top1_agreement},
                           {"ppl_full", q.ppl_full},
                           {"ppl", q.ppl}});
    }
    for (const auto& s : r.speed) {
        speed.push_back({{"cache", s.cache},
                         {"policy", s.policy},
                         {"context", s.context},
                         {"bytes", s.bytes},
                         {"tokens_per_s", s.tokens_per_s},
                         {"vs_f16", s.vs_f16},
                         {"attention_ms", s.attention_ms},
                         {"attention_vs_f16", s.attention_vs_f16},
                         {"commit_ms", s.commit_ms}});
    }
    return {{"benchmark", "kv"},
            {"quality_model", "stories260K"},
            {"n_ctx", r.n_ctx},
            {"samples", r.samples},
            {"sample_tokens", r.sample_tokens},
            {"quality", quality},
            {"speed_model", "135M-shape Q8_0 (random weights)"},
            {"speed", speed},
            {"seconds", r.seconds}};
}

}  // namespace

const char* bench_kv_usage() {
    return kUsage;
}

int run_bench_kv(int argc, char** argv) {
    std::string model = "data/models/stories260K/stories260K-tok512.gguf", out_path = "bench-kv.json", work_dir;
    std::string plot_path;
    std::string contexts = "64,2048,8192,16384";
    std::string only;
    std::string sim;
    long long n_ctx = 512, samples = 4, tokens = 0, threads = 2, steps = 16, rounds = 2;
    bool json_only = false, no_speed = false;
    BenchFlags flags("bench kv", kUsage);
    flags.text("--model", &model);
    flags.text("--out", &out_path);
    flags.text("--plot", &plot_path);
    flags.text("--work-dir", &work_dir);
    flags.text("--contexts", &contexts);
    flags.text("--only", &only);
    flags.text("--sim", &sim);
    flags.integer("--ctx", &n_ctx);
    flags.integer("--samples", &samples);
    flags.integer("--tokens", &tokens);
    flags.integer("--threads", &threads);
    flags.integer("--steps", &steps);
    flags.integer("--rounds", &rounds);
    flags.toggle("--json", &json_only);
    flags.toggle("--no-speed", &no_speed);
    if (auto o = flags.parse(argc, argv, 2); o != BenchFlags::Outcome::kParsed) return BenchFlags::exit_code(o);
    if (n_ctx < 8 || n_ctx > (1 << 20) || samples < 1 || samples > 1000 || tokens < 0 || threads < 1 || threads > 256 ||
        steps < 1 || rounds < 1) {
        std::cerr << "kasten bench kv: --ctx 8..1048576, --samples 1..1000, --tokens >= 0, --threads 1..256, --steps "
                     ">= 1, --rounds >= 1\n";
        return 2;
    }
    llm::KvBenchmarkOptions options;
    options.stories_path = model;
    options.n_ctx = static_cast<int>(n_ctx);
    options.samples = static_cast<int>(samples);
    options.sample_tokens = static_cast<int>(tokens);
    options.threads = static_cast<int>(threads);
    options.steps = static_cast<int>(steps);
    options.rounds = static_cast<int>(rounds);
    options.include_speed = !no_speed;
    options.only = only;
    {
        std::stringstream in(sim);
        std::string item;
        while (std::getline(in, item, ';')) {
            if (!item.empty()) options.sim_schemes.push_back(item);
        }
    }
    options.speed_contexts.clear();
    {
        std::stringstream in(contexts);
        std::string item;
        while (std::getline(in, item, ',')) {
            int c = 0;
            try {
                c = std::stoi(item);
            } catch (const std::exception&) {
                c = 0;
            }
            if (c < 2 || c > (1 << 20)) {
                std::cerr << "kasten bench kv: --contexts: '" << item << "' is not a context length in 2..1048576\n";
                return 2;
            }
            options.speed_contexts.push_back(c);
        }
    }
    std::error_code ec;
    if (!std::filesystem::is_regular_file(model, ec)) {
        std::cerr << "kasten bench kv: --model: no such file: " << model << "\n";
        return 1;
    }
    const bool own_work_dir = work_dir.empty();
    if (own_work_dir) {
        work_dir = (std::filesystem::temp_directory_path() /
                    ("kasten-bench-kv-" + std::to_string(std::chrono::steady_clock::now().time_since_epoch().count())))
                       .string();
    }
    options.work_dir = work_dir;
    if (!json_only) options.progress = [](std::string_view line) { std::cerr << "bench: " << line << "\n"; };
    Result<llm::KvBenchmarkReport> report = llm::run_kv_benchmark(options);
    if (own_work_dir) std::filesystem::remove_all(work_dir, ec);
    if (!report.is_ok()) {
        std::cerr << "kasten bench kv: " << report.status().to_string() << "\n";
        return 1;
    }
    if (!json_only) std::cerr << report.value().to_text();
    const std::string text = to_json(report.value()).dump(2);
    std::cout << text << std::endl;
    std::ofstream out(out_path);
    if (!out || !(out << text << "\n")) {
        std::cerr << "kasten bench kv: cannot write " << out_path << "\n";
        return 1;
    }
    if (!plot_path.empty()) {
        std::ofstream plot(plot_path);
        if (!plot || !(plot << report.value().quality_svg())) {
            std::cerr << "kasten bench kv: cannot write " << plot_path << "\n";
            return 1;
        }
    }
    if (!json_only) std::cerr << "written to " << out_path << (plot_path.empty() ? "" : " and " + plot_path) << "\n";
    return 0;
}

}  // namespace kasten::api
