#include "llm/decode_benchmark.h"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <random>

#include <fmt/format.h>

#include "llm/llama_context.h"
#include "llm/memory_bandwidth.h"
#include "llm/model_converter.h"
#include "llm/random_model_writer.h"

namespace kasten::llm {
namespace {

using SteadyClock = std::chrono::steady_clock;

double seconds_since(SteadyClock::time_point t0) {
    return std::chrono::duration<double>(SteadyClock::now() - t0).count();
}

int argmax(std::span<const float> v) {
    return static_cast<int>(std::max_element(v.begin(), v.end()) - v.begin());
}

std::vector<int> prompt_of(int n, int vocab) {
    std::vector<int> p;
    for (int i = 0; i < n; ++i) p.push_back(3 + (i * 7919) % (vocab - 3));
    return p;
}

// Fills cells [0, n) of every layer with random keys and values of unit scale and commits them.
void fill_cache_synthetic(KvCache& cache, int n) {
    const KvCacheShape& s = cache.shape();
    std::mt19937 rng(1);
    std::normal_distribution<float> dist(0.0f, 1.0f);
    std::vector<float> k(static_cast<std::size_t>(s.n_head_kv * s.head_dim));
    std::vector<float> v(k.size());
    for (int l = 0; l < s.n_layer; ++l) {
        for (int c = 0; c < n; ++c) {
            for (float& x : k) x = dist(rng);
            for (float& x : v) x = dist(rng);
            cache.store(l, c, k.data(), v.data());
        }
    }
    cache.commit(n);
}

double mean(const std::vector<double>& values) {
    double sum = 0;
    for (double v : values) sum += v;
    return values.empty() ? 0.0 : sum / static_cast<double>(values.size());
}

// Times `steps` greedy decode steps after one warm-up step; returns tokens per second.
Result<double> time_generation(LlamaContext& ctx, int steps) {
    int token = argmax(ctx.logits());
    KASTEN_RETURN_IF_ERROR(ctx.eval(std::span<const int>(&token, 1)));
    const auto t0 = SteadyClock::now();
    for (int i = 0; i < steps; ++i) {
        token = argmax(ctx.logits());
        KASTEN_RETURN_IF_ERROR(ctx.eval(std::span<const int>(&token, 1)));
    }
    return steps / seconds_since(t0);
}

struct Bench {
    const DecodeBenchmarkOptions& options;
    DecodeBenchmarkReport& report;
    std::map<int, double> bandwidth;  // threads → bytes/s
    std::map<int, std::unique_ptr<ThreadPool>> pools;

    ThreadPool& pool(int threads) {
        auto& p = pools[threads];
        if (!p) p = std::make_unique<ThreadPool>(threads);
        return *p;
    }

    void say(const std::string& line) const {
        if (options.progress) options.progress(line);
    }

    void finish(DecodeRun& run) {
        const double bytes = static_cast<double>(run.weight_bytes_per_token + run.kv_bytes_per_token);
        run.bandwidth_limit_tokens_per_s = bandwidth[run.threads] / bytes;
        run.fraction_of_limit = run.generate_tokens_per_s / run.bandwidth_limit_tokens_per_s;
        say(fmt::format(
            "{} {} {} thread(s) ctx {}: pp {:.1f} tok/s, tg {:.2f} tok/s, {:.1f} MB/token, {:.0f}% of "
            "the bandwidth limit",
            run.model, run.weight_type, run.threads, run.context, run.prompt_tokens_per_s, run.generate_tokens_per_s,
            (run.weight_bytes_per_token + run.kv_bytes_per_token) / 1e6, 100 * run.fraction_of_limit));
        report.runs.push_back(run);
    }

    // Short-context runs: prompt processing, then generation right after the prompt.
    Status short_runs(const std::string& name, const std::string& type, const std::shared_ptr<const LlamaModel>& m) {
        const ModelConfig& c = m->config();
        const int n_ctx = options.prompt_tokens + options.generate_tokens + 2;
        const std::vector<int> prompt = prompt_of(options.prompt_tokens, c.n_vocab);
        for (int threads : options.threads) {
            DecodeRun run;
            run.model = name;
            run.weight_type = type;
            run.threads = threads;
            run.context = options.prompt_tokens;
            run.weight_bytes_per_token = m->bytes_read_per_token();
            {  // warm-up: page in the weights, spin up the threads
                LlamaContext warm(m, LlamaContext::make_full_cache(c, n_ctx), &pool(threads));
                KASTEN_RETURN_IF_ERROR(
                    warm.eval(std::span<const int>(prompt.data(), std::min<std::size_t>(8, prompt.size()))));
            }
            for (int rep = 0; rep < std::max(1, options.repetitions); ++rep) {
                LlamaContext ctx(m, LlamaContext::make_full_cache(c, n_ctx), &pool(threads));
                const auto t0 = SteadyClock::now();
                KASTEN_RETURN_IF_ERROR(ctx.eval(prompt));
                run.prompt_tokens_per_s_each.push_back(options.prompt_tokens / seconds_since(t0));
                KASTEN_ASSIGN_OR_RETURN(double generated, time_generation(ctx, options.generate_tokens));
                run.generate_tokens_per_s_each.push_back(generated);
            }
            run.prompt_tokens_per_s = mean(run.prompt_tokens_per_s_each);
            run.generate_tokens_per_s = mean(run.generate_tokens_per_s_each);
            // Cells read per step grow from prompt_tokens + 1; average them.
            const double cells = options.prompt_tokens + 1.5 + options.generate_tokens / 2.0;
            run.kv_bytes_per_token =
                static_cast<std::uint64_t>(cells * 2.0 * c.n_layer * c.n_head_kv * c.head_dim * 4.0);
            finish(run);
        }
        return Status::ok();
    }

    Status long_runs(const std::shared_ptr<const LlamaModel>& m, const std::string& type) {
        const ModelConfig& c = m->config();
        for (int context : options.long_contexts) {
            for (int threads : options.threads) {
                DecodeRun run;
                run.model = "135M-shape";
                run.weight_type = type;
                run.threads = threads;
                run.context = context;
                run.weight_bytes_per_token = m->bytes_read_per_token();
                LlamaContext ctx(m, LlamaContext::make_full_cache(c, context + options.generate_tokens + 2),
                                 &pool(threads));
                fill_cache_synthetic(ctx.cache(), context - 1);
                const int last = 3;
                KASTEN_RETURN_IF_ERROR(ctx.eval(std::span<const int>(&last, 1)));
                KASTEN_ASSIGN_OR_RETURN(run.generate_tokens_per_s, time_generation(ctx, options.generate_tokens));
                run.generate_tokens_per_s_each = {run.generate_tokens_per_s};
                const double cells = context + 1.5 + options.generate_tokens / 2.0;
                run.kv_bytes_per_token =
                    static_cast<std::uint64_t>(cells * 2.0 * c.n_layer * c.n_head_kv * c.head_dim * 4.0);
                finish(run);
            }
        }
        return Status::ok();
    }
};

std::string type_label(TensorType type) {
    return std::string(tensor_type_name(type));
}

}  // namespace

std::string DecodeBenchmarkReport::to_text() const {
    std::string out;
    for (const BandwidthFigure& b : bandwidth) {
        out += fmt::format("triad bandwidth, {} thread(s): {:.2f} GB/s\n", b.threads, b.gb_per_s);
    }
    out += fmt::format("{:<12} {:<5} {:>3} {:>6} {:>10} {:>10} {:>10} {:>10} {:>9} {:>7}\n", "model", "type", "thr",
                       "ctx", "pp tok/s", "tg tok/s", "MB w/tok", "MB kv/tok", "limit t/s", "of lim");
    for (const DecodeRun& r : runs) {
        out += fmt::format("{:<12} {:<5} {:>3} {:>6} {:>10.1f} {:>10.2f} {:>10.1f} {:>10.1f} {:>9.1f} {:>6.0f}%\n",
                           r.model, r.weight_type, r.threads, r.context, r.prompt_tokens_per_s, r.generate_tokens_per_s,
                           r.weight_bytes_per_token / 1e6, r.kv_bytes_per_token / 1e6, r.bandwidth_limit_tokens_per_s,
                           100 * r.fraction_of_limit);
    }
    out += fmt::format("total {:.1f} s\n", seconds);
    return out;
}

Result<DecodeBenchmarkReport> run_decode_benchmark(const DecodeBenchmarkOptions& options) {
    if (options.work_dir.empty()) return Status::invalid_argument("decode benchmark: work_dir is empty");
    std::error_code ec;
    std::filesystem::create_directories(options.work_dir, ec);
    if (ec) return Status::io_error(fmt::format("cannot create '{}': {}", options.work_dir, ec.message()));
    const auto t0 = SteadyClock::now();
    DecodeBenchmarkReport report;
    Bench bench{options, report, {}, {}};
    std::vector<std::string> written;
    auto cleanup = [&] {
        if (options.keep_models) return;
        for (const std::string& f : written) std::filesystem::remove(f, ec);
    };

    for (int threads : options.threads) {
        const double bw = measure_triad_bandwidth(bench.pool(threads), options.bandwidth_array_bytes);
        bench.bandwidth[threads] = bw;
        report.bandwidth.push_back({threads, bw / 1e9});
        bench.say(fmt::format("triad bandwidth, {} thread(s): {:.2f} GB/s", threads, bw / 1e9));
    }

    Status s = [&]() -> Status {
        if (!options.stories_path.empty()) {
            for (TensorType type : options.types) {
                std::string path = options.stories_path;
                if (type != TensorType::kF32) {
                    path = options.work_dir + fmt::format("/stories260K-{}.gguf", tensor_type_name(type));
                    // Pure files of the measured type: the benchmark times that type's kernels.
                    RequantizeOptions pure;
                    pure.calibrate = false;
                    pure.mixed_precision = false;
                    KASTEN_ASSIGN_OR_RETURN(ConversionReport r,
                                            requantize_gguf(options.stories_path, path, type, pure));
                    (void)r;
                    written.push_back(path);
                }
                KASTEN_ASSIGN_OR_RETURN(std::shared_ptr<const LlamaModel> m, LlamaModel::open(path));
                KASTEN_RETURN_IF_ERROR(bench.short_runs("stories260K", type_label(type), m));
            }
        }
        for (TensorType type : options.types) {
            if (!options.include_135m) break;
            const std::string path = options.work_dir + fmt::format("/random-135M-{}.gguf", tensor_type_name(type));
            bench.say(fmt::format("writing {}", path));
            KASTEN_RETURN_IF_ERROR(write_random_model(RandomModelSpec::smollm2_135m_shape(type), path));
            written.push_back(path);
            KASTEN_ASSIGN_OR_RETURN(std::shared_ptr<const LlamaModel> m, LlamaModel::open(path));
            KASTEN_RETURN_IF_ERROR(bench.short_runs("135M-shape", type_label(type), m));
            if (type == options.long_context_type) KASTEN_RETURN_IF_ERROR(bench.long_runs(m, type_label(type)));
        }
        return Status::ok();
    }();
    cleanup();
    if (!s.is_ok()) return s;
    report.seconds = seconds_since(t0);
    return report;
}

}  // namespace kasten::llm
