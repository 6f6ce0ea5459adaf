#include "llm/kv_benchmark.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <map>
#include <memory>
#include <random>
#include <tuple>

#include <fmt/format.h>

#include "llm/evicting_kv_cache.h"
#include "llm/kv_cache_factory.h"
#include "llm/llama_context.h"
#include "llm/llama_model.h"
#include "llm/quantized_h2o_kv_cache.h"
#include "llm/random_model_writer.h"
#include "llm/rope.h"
#include "llm/sim_kv_cache.h"
#include "llm/tokenizer.h"
#include "llm/tokenizer_factory.h"

namespace kasten::llm {
namespace {

using SteadyClock = std::chrono::steady_clock;

double seconds_since(SteadyClock::time_point t0) {
    return std::chrono::duration<double>(SteadyClock::now() - t0).count();
}

constexpr int kSinks = 4;

// `batch_slots`: the eviction caches' room for one batch beyond the budget (the largest batch the caller stores
// before a commit; make_kv_cache() reserves the decoder's 64).
Result<std::unique_ptr<KvCache>> make_config_cache(const KvBenchConfig& c, const ModelConfig& config, int n_ctx,
                                                   int batch_slots = 1,
                                                   std::shared_ptr<const VqCodebooks> codebooks = nullptr) {
    if (c.policy.rfind("sim:", 0) == 0) {
        KASTEN_ASSIGN_OR_RETURN(SimKvSpec spec, parse_sim_spec(c.policy.substr(4)));
        const KvCacheShape shape{config.n_layer, config.n_head_kv, config.head_dim, n_ctx};
        KASTEN_RETURN_IF_ERROR(check_sim_spec(spec, shape));
        if (spec.vq && codebooks == nullptr) return Status::invalid_argument("vq scheme without codebooks");
        return std::unique_ptr<KvCache>(std::make_unique<SimKvCache>(
            shape, spec, c.policy, std::make_shared<const Rope>(config), std::move(codebooks)));
    }
    if (c.f16_fraction > 0) {  // the cells that bytes buy: the caches' own per-cell sizes, one batch slot
        if (c.policy != "h2o" && c.policy != "h2o-q8" && c.policy != "h2o-q4") {
            return Status::invalid_argument(fmt::format("f16_fraction with policy '{}'", c.policy));
        }
        const KvCacheShape shape{config.n_layer, config.n_head_kv, config.head_dim, n_ctx};
        KASTEN_ASSIGN_OR_RETURN(const std::size_t f16_bytes, kv_cache_bytes(config, n_ctx, KvCacheOptions{"f16"}));
        const double bytes = c.f16_fraction * static_cast<double>(f16_bytes);
        const std::size_t per_cell = c.policy == "h2o"
                                         ? EvictingKvCache::bytes_per_cell(shape)
                                         : QuantizedH2oKvCache::bytes_per_cell(shape, c.policy == "h2o-q8" ? 8 : 4);
        KvBenchConfig cells = c;
        cells.f16_fraction = 0;
        cells.eviction_cells = static_cast<int>(bytes / static_cast<double>(per_cell)) - batch_slots;
        if (cells.eviction_cells < 2) return Status::invalid_argument("f16_fraction buys no cells");
        return make_config_cache(cells, config, n_ctx, batch_slots, std::move(codebooks));
    }
    if (c.eviction_cells > 0 && (c.policy == "h2o-q8" || c.policy == "h2o-q4")) {  // eviction over quantized cells
        QuantizedH2oOptions o;
        o.bits = c.policy == "h2o-q8" ? 8 : 4;
        o.budget = std::min(c.eviction_cells, n_ctx);
        o.sinks = std::min(kSinks, o.budget - 1);
        o.window = std::clamp(o.budget / 2, 1, o.budget - o.sinks);
        o.n_q = config.n_head / config.n_head_kv;
        o.batch_slots = batch_slots;
        return std::unique_ptr<KvCache>(std::make_unique<QuantizedH2oKvCache>(
            KvCacheShape{config.n_layer, config.n_head_kv, config.head_dim, n_ctx}, o));
    }
    if (c.eviction_cells > 0 && (c.policy == "snapkv" || c.policy == "pyramidkv" || c.policy == "adakv")) {
        // As make_kv_cache() builds them: a window of half the budget, 32 observation queries, max-pool 7.
        EvictionOptions o;
        o.policy = EvictionPolicy::kSnapKv;
        o.budget = std::min(c.eviction_cells, n_ctx);
        o.sinks = std::min(kSinks, o.budget - 1);
        o.window = std::clamp(o.budget / 2, 1, o.budget - o.sinks);
        o.n_q = config.n_head / config.n_head_kv;
        o.batch_slots = batch_slots;
        o.observation = std::min(32, o.window);
        o.pool = 7;
        o.pyramid = c.policy == "pyramidkv";
        if (c.pyramid_beta > 0) o.pyramid_beta = c.pyramid_beta;
        o.adaptive_heads = c.policy == "adakv";
        return std::unique_ptr<KvCache>(std::make_unique<EvictingKvCache>(
            KvCacheShape{config.n_layer, config.n_head_kv, config.head_dim, n_ctx}, o));
    }
    if (c.eviction_cells > 0) {
        EvictionOptions o;
        o.policy = c.policy == "h2o" ? EvictionPolicy::kH2o : EvictionPolicy::kStreaming;
        o.budget = std::min(c.eviction_cells, n_ctx);
        o.sinks = std::min(kSinks, o.budget - 1);
        o.window = o.policy == EvictionPolicy::kStreaming ? o.budget - o.sinks
                                                          : std::clamp(o.budget / 2, 1, o.budget - o.sinks);
        o.n_q = config.n_head / config.n_head_kv;
        o.batch_slots = batch_slots;
        if (c.policy != "h2o" && c.policy != "streaming") {
            return Status::invalid_argument(fmt::format("eviction_cells with policy '{}'", c.policy));
        }
        return std::unique_ptr<KvCache>(std::make_unique<EvictingKvCache>(
            KvCacheShape{config.n_layer, config.n_head_kv, config.head_dim, n_ctx}, o));
    }
    KvCacheOptions o;
    o.policy = c.policy;
    o.residual = c.residual;
    o.mixed_high_bits = c.high_bits;
    o.mixed_low_bits = c.low_bits;
    o.mixed_salient_fraction = c.salient_fraction;
    return make_kv_cache(config, n_ctx, o);
}

// log-softmax of logits.
void log_softmax(std::span<const float> logits, std::vector<double>& out) {
    out.resize(logits.size());
    const double m = *std::max_element(logits.begin(), logits.end());
    double total = 0;
    for (float x : logits) total += std::exp(x - m);
    const double lse = m + std::log(total);
    for (std::size_t i = 0; i < logits.size(); ++i) out[i] = logits[i] - lse;
}

int argmax(const std::vector<double>& v) {
    return static_cast<int>(std::max_element(v.begin(), v.end()) - v.begin());
}

struct Sample {
    std::vector<int> tokens;                // T tokens, the first the BOS
    std::vector<std::vector<double>> logp;  // per position: the full cache's next-token log-probabilities
};

// Writes n_tokens through `ctx` at temperature 1 from `seed`, starting with `bos`: the tokens and the log-probabilities
// the context gave at each of them.
Result<Sample> sample_through(LlamaContext& ctx, int bos, int n_tokens, std::uint64_t seed) {
    std::mt19937_64 rng(seed);
    Sample s;
    s.tokens.push_back(bos);
    for (int t = 0; t < n_tokens; ++t) {
        KASTEN_RETURN_IF_ERROR(ctx.eval(std::span<const int>(&s.tokens[static_cast<std::size_t>(t)], 1)));
        s.logp.emplace_back();
        log_softmax(ctx.logits(), s.logp.back());
        if (t + 1 == n_tokens) break;
        std::vector<double> p(s.logp.back().size());
        for (std::size_t i = 0; i < p.size(); ++i) p[i] = std::exp(s.logp.back()[i]);
        std::discrete_distribution<int> pick(p.begin(), p.end());
        s.tokens.push_back(pick(rng));
    }
    return s;
}

Result<Sample> write_sample(const std::shared_ptr<const LlamaModel>& m, ThreadPool& pool, int bos, int n_tokens,
                            std::uint64_t seed) {
    LlamaContext ctx(m, LlamaContext::make_full_cache(m->config(), n_tokens), &pool);
    return sample_through(ctx, bos, n_tokens, seed);
}

// Calibration for VQ schemes: texts written at seeds 1001.. (disjoint from the evaluation's 1..samples) through
// an exact recording cache.
Result<VqCalibration> record_calibration(const std::shared_ptr<const LlamaModel>& m, ThreadPool& pool, int bos,
                                         int n_tokens, int texts, int first_seed) {
    VqCalibration cal;
    const ModelConfig& config = m->config();
    for (int i = 0; i < texts; ++i) {
        LlamaContext ctx(m,
                         std::make_unique<RecordingKvCache>(
                             KvCacheShape{config.n_layer, config.n_head_kv, config.head_dim, n_tokens}),
                         &pool);
        KASTEN_RETURN_IF_ERROR(sample_through(ctx, bos, n_tokens, static_cast<std::uint64_t>(first_seed + i)).status());
        dynamic_cast<const RecordingKvCache&>(ctx.cache()).append_to(cal);
    }
    return cal;
}

struct QualityAccumulator {
    double kl = 0, max_kl = 0, agree = 0, nll_full = 0, nll = 0;
    long long positions = 0, predictions = 0;
    std::uint64_t peak_bytes = 0;
};

Status teacher_force(const std::shared_ptr<const LlamaModel>& m, ThreadPool& pool, std::unique_ptr<KvCache> cache,
                     const Sample& s, QualityAccumulator& acc, int prompt_tokens = 0) {
    const std::size_t prompt = std::min(static_cast<std::size_t>(std::max(0, prompt_tokens)), s.tokens.size());
    LlamaContext ctx(m, std::move(cache), &pool, std::max(64, static_cast<int>(prompt)));
    struct PeakBytes {  // storage only grows, so bytes() after the run is the peak
        const LlamaContext& ctx;
        QualityAccumulator& acc;
        ~PeakBytes() { acc.peak_bytes = std::max<std::uint64_t>(acc.peak_bytes, ctx.cache().bytes()); }
    } peak{ctx, acc};
    if (prompt > 0) {  // one prefill batch, all logits
        KASTEN_RETURN_IF_ERROR(ctx.eval(std::span<const int>(s.tokens.data(), prompt), true));
    }
    std::vector<double> lp;
    for (std::size_t t = 0; t < s.tokens.size(); ++t) {
        if (t >= prompt) KASTEN_RETURN_IF_ERROR(ctx.eval(std::span<const int>(&s.tokens[t], 1)));
        log_softmax(t < prompt ? ctx.logits(static_cast<int>(t)) : ctx.logits(), lp);
        const std::vector<double>& ref = s.logp[t];
        double kl = 0;
        for (std::size_t i = 0; i < lp.size(); ++i) kl += std::exp(ref[i]) * (ref[i] - lp[i]);
        kl = std::max(kl, 0.0);
        acc.kl += kl;
        acc.max_kl = std::max(acc.max_kl, kl);
        acc.agree += argmax(ref) == argmax(lp) ? 1 : 0;
        ++acc.positions;
        if (t + 1 < s.tokens.size()) {
            acc.nll_full -= ref[static_cast<std::size_t>(s.tokens[t + 1])];
            acc.nll -= lp[static_cast<std::size_t>(s.tokens[t + 1])];
            ++acc.predictions;
        }
    }
    return Status::ok();
}

constexpr int kSyntheticBatch = 64;

// Fills cells [0, n) with synthetic unit-scale keys and values (rows cycled from a small random pool), committing
// in batches as a prefill would. With `n_q` > 0 the last batch's tokens then attend causally with random queries
// (n_q per KV head), as a prompt's would, so the commit ending it scores them (H2O) or lets its observation window
// vote (SnapKV). Returns that last commit's milliseconds.
double fill_synthetic(KvCache& cache, int n, int n_q = 0) {
    const KvCacheShape& s = cache.shape();
    const std::size_t row = static_cast<std::size_t>(s.n_head_kv) * s.head_dim;
    constexpr int kPool = 1021;
    std::mt19937 rng(1);
    std::normal_distribution<float> dist(0.0f, 1.0f);
    std::vector<float> pool(2 * kPool * row);
    for (float& x : pool) x = dist(rng);
    for (int c0 = 0; c0 < n; c0 += kSyntheticBatch) {
        const int c1 = std::min(n, c0 + kSyntheticBatch);
        for (int l = 0; l < s.n_layer; ++l) {
            for (int c = c0; c < c1; ++c) {
                const std::size_t r = static_cast<std::size_t>((c * 31 + l * 17) % kPool);
                cache.store(l, c, pool.data() + 2 * r * row, pool.data() + (2 * r + 1) * row);
            }
        }
        if (c1 == n && n_q > 0) {
            const std::size_t hd = static_cast<std::size_t>(s.head_dim);
            std::vector<float> q(n_q * hd), out(n_q * hd), mx(n_q), sum(n_q),
                scratch(static_cast<std::size_t>(n_q) * n);
            const float scale = 1.0f / std::sqrt(static_cast<float>(hd));
            for (int l = 0; l < s.n_layer; ++l) {
                for (int c = c0; c < c1; ++c) {
                    for (int h = 0; h < s.n_head_kv; ++h) {
                        for (float& x : q) x = dist(rng);
                        cache.attend(l, h, q.data(), n_q, 0, c + 1, scale, out.data(), mx.data(), sum.data(),
                                     scratch.data());
                    }
                }
            }
        }
        const auto t0 = SteadyClock::now();
        cache.commit(c1);
        if (c1 == n) return 1e3 * seconds_since(t0);
    }
    return 0.0;
}

// Milliseconds one token's attention takes over cells [0, n) of every layer and KV head, on this thread (best of
// three).
double time_attention(const KvCache& cache, const ModelConfig& config, int n) {
    const int n_q = config.n_head / config.n_head_kv;
    const std::size_t hd = static_cast<std::size_t>(config.head_dim);
    std::mt19937 rng(7);
    std::normal_distribution<float> dist(0.0f, 1.0f);
    std::vector<float> q(n_q * hd), out(n_q * hd), mx(n_q), sum(n_q), scratch(static_cast<std::size_t>(n_q) * n);
    for (float& x : q) x = dist(rng);
    const float scale = 1.0f / std::sqrt(static_cast<float>(hd));
    double best = 1e30;
    for (int rep = 0; rep < 3; ++rep) {
        const auto t0 = SteadyClock::now();
        for (int l = 0; l < config.n_layer; ++l) {
            for (int h = 0; h < config.n_head_kv; ++h) {
                cache.attend(l, h, q.data(), n_q, 0, n, scale, out.data(), mx.data(), sum.data(), scratch.data());
            }
        }
        best = std::min(best, 1e3 * seconds_since(t0));
    }
    return best;
}

std::string label(const KvBenchConfig& c) {
    if (c.policy == "mixed") {
        return fmt::format("mixed-q{}q{}-f{:.2f}-r{}", c.high_bits, c.low_bits, c.salient_fraction, c.residual);
    }
    const std::string prompt = c.prompt > 0 ? fmt::format("-p{}", c.prompt) : "";
    const std::string beta = c.pyramid_beta > 0 ? fmt::format("-beta{}", c.pyramid_beta) : "";
    if (c.f16_fraction > 0) return fmt::format("{}@{:.3f}xf16", c.policy, c.f16_fraction) + beta + prompt;
    return (c.eviction_cells > 0 ? fmt::format("{}-{}", c.policy, c.eviction_cells) : c.policy) + beta + prompt;
}

}  // namespace

std::vector<KvBenchConfig> default_kv_quality_configs(int n_ctx) {
    std::vector<KvBenchConfig> out = {{"full"}, {"f16"}};
    for (const char* p : {"kivi8", "kivi4", "kivi2"}) {
        for (int r : {0, 32}) out.push_back({p, r, 0});
    }
    for (const char* p : {"streaming", "h2o"}) {
        for (int div : {2, 4, 8}) out.push_back({p, 32, n_ctx / div});
    }
    // SnapKV selects at a prefill: every eviction policy with the first half of each text as one prompt batch.
    for (const char* p : {"streaming", "h2o", "snapkv", "pyramidkv", "adakv"}) {
        for (int div : {2, 4, 8}) out.push_back({p, 32, n_ctx / div, n_ctx / 2});
    }
    // PyramidKV's slope beyond the default row: of 2, 5 and the paper's 20 (β = 1 is uniform, i.e. snapkv).
    for (int beta : {2, 5, 20}) {
        if (beta == EvictionOptions{}.pyramid_beta) continue;
        for (int div : {2, 4, 8}) out.push_back({"pyramidkv", 32, n_ctx / div, n_ctx / 2, beta});
    }
    // Mixed precision: salient cells at 8 bit, the rest at 2 (or 4), several salient fractions and windows.
    for (auto [low, frac, r] :
         {std::tuple{2, 0.05, 0}, std::tuple{2, 0.1, 0}, std::tuple{2, 0.2, 0}, std::tuple{2, 0.1, 32},
          std::tuple{2, 0.2, 32}, std::tuple{2, 0.3, 32}, std::tuple{4, 0.05, 0}, std::tuple{4, 0.1, 0}}) {
        KvBenchConfig c{"mixed", r, 0};
        c.low_bits = low;
        c.salient_fraction = frac;
        out.push_back(c);
    }
    // Eviction combined with quantization: H2O over 8- and 4-bit cells.
    for (const char* p : {"h2o-q8", "h2o-q4"}) {
        for (int div : {2, 4, 8}) out.push_back({p, 32, n_ctx / div});
    }
    // auto's last resort at equal bytes: H2O over f16 cells against H2O over 8-bit cells (more cells per byte).
    for (double fraction : {0.25, 0.125}) {
        for (const char* p : {"h2o", "h2o-q8"}) {
            KvBenchConfig c{p, 32, 0};
            c.f16_fraction = fraction;
            out.push_back(c);
        }
    }
    return out;
}

std::vector<KvBenchConfig> default_kv_speed_configs() {
    return {{"f16"},
            {"full"},
            {"kivi8"},
            {"kivi4"},
            {"kivi2"},
            {"streaming", 32, 1024},
            {"h2o", 32, 1024},
            {"mixed"},
            {"h2o-q8", 32, 1024},
            // auto's last resort in the bytes of f16 H2O's 1024 cells (264 against 144 bytes per cell and KV head at
            // the speed model's head_dim 64): the speed its extra cells cost.
            {"h2o-q8", 32, 1877},
            {"snapkv", 32, 1024},
            {"pyramidkv", 32, 1024},
            {"adakv", 32, 1024}};
}

std::string KvBenchmarkReport::to_text() const {
    std::string out =
        fmt::format("quality: stories260K, {} samples x {} tokens (context {})\n", samples, sample_tokens, n_ctx);
    out += fmt::format("{:<36} {:>9} {:>9} {:>8} {:>7} {:>10} {:>9} {:>8} {:>8}\n", "cache", "bytes", "peak", "B/token",
                       "x f16", "mean KL", "max KL", "top-1", "ppl");
    for (const KvQualityRow& r : quality) {
        out += fmt::format("{:<36} {:>9} {:>9} {:>8.1f} {:>7.3f} {:>10.2e} {:>9.3f} {:>7.2f}% {:>8.4f}\n", r.cache,
                           r.bytes, r.peak_bytes, r.bytes_per_token, r.f16_ratio, r.mean_kl, r.max_kl,
                           100 * r.top1_agreement, r.ppl);
    }
    out += "(bytes: as constructed; peak: the most held, above bytes when a prompt batch outgrows the batch slots)\n";
    if (!quality.empty()) out += fmt::format("perplexity with the full cache: {:.4f}\n", quality.front().ppl_full);
    if (!speed.empty()) {
        out += "speed: 135M shape Q8_0, decode tok/s\n";
        out += fmt::format("{:<44} {:>7} {:>12} {:>9} {:>8} {:>9} {:>8} {:>10}\n", "cache", "context", "bytes", "tok/s",
                           "x f16", "attn ms", "x f16", "commit ms");
        for (const KvSpeedRow& r : speed) {
            out +=
                fmt::format("{:<44} {:>7} {:>12} {:>9.2f} {:>8.2f} {:>9.2f} {:>8.2f} {:>10.2f}\n", r.cache, r.context,
                            r.bytes, r.tokens_per_s, r.vs_f16, r.attention_ms, r.attention_vs_f16, r.commit_ms);
        }
    }
    out += fmt::format("total {:.1f} s\n", seconds);
    return out;
}

std::string KvBenchmarkReport::quality_svg() const {
    constexpr double kW = 720, kH = 480, kLeft = 70, kRight = 20, kTop = 30, kBottom = 50;
    constexpr double kMinKl = 1e-7, kMaxKl = 1.0;
    double max_ratio = 1.0;
    for (const KvQualityRow& r : quality) {
        if (r.cache != "full-f32") max_ratio = std::max(max_ratio, r.f16_ratio);
    }
    const auto x = [&](double ratio) { return kLeft + ratio / max_ratio * (kW - kLeft - kRight); };
    const auto y = [&](double kl) {
        const double v = std::log10(std::clamp(kl, kMinKl, kMaxKl));
        return kTop + (std::log10(kMaxKl) - v) / (std::log10(kMaxKl) - std::log10(kMinKl)) * (kH - kTop - kBottom);
    };
    std::string out = fmt::format(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{}\" font-family=\"sans-serif\" "
        "font-size=\"11\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
        "<text x=\"{}\" y=\"18\" font-size=\"13\">KV caches on stories260K: bytes per token against mean "
        "KL(full || cache), {} samples x {} tokens</text>\n",
        kW, kH, kLeft, samples, sample_tokens);
    out += fmt::format("<line x1=\"{0}\" y1=\"{1}\" x2=\"{0}\" y2=\"{2}\" stroke=\"black\"/>\n", kLeft, kTop,
                       kH - kBottom);
    out += fmt::format("<line x1=\"{0}\" y1=\"{1}\" x2=\"{2}\" y2=\"{1}\" stroke=\"black\"/>\n", kLeft, kH - kBottom,
                       kW - kRight);
    for (int e = -7; e <= 0; ++e) {
        out += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"end\">1e{}</text>\n", kLeft - 6,
                           y(std::pow(10.0, e)) + 4, e);
    }
    for (double t = 0; t <= max_ratio + 1e-9; t += 0.25) {
        out +=
            fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{:.2f}</text>\n", x(t), kH - kBottom + 16, t);
    }
    out += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">bytes per token / f16</text>\n",
                       (kLeft + kW - kRight) / 2, kH - 12);
    out += fmt::format(
        "<line x1=\"{0}\" y1=\"{1}\" x2=\"{0}\" y2=\"{2}\" stroke=\"green\" stroke-dasharray=\"4 3\"/>\n"
        "<line x1=\"{3}\" y1=\"{4}\" x2=\"{5}\" y2=\"{4}\" stroke=\"green\" stroke-dasharray=\"4 3\"/>\n",
        x(0.2), kTop, kH - kBottom, kLeft, y(0.01), kW - kRight);
    for (const KvQualityRow& r : quality) {
        if (r.cache == "full-f32") continue;
        const char* color = r.policy.rfind("kivi", 0) == 0 ? "#1f77b4" : r.policy == "f16" ? "black" : "#d62728";
        out += fmt::format(
            "<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"4\" fill=\"{}\"/><text x=\"{:.1f}\" y=\"{:.1f}\">{}</text>\n",
            x(r.f16_ratio), y(r.mean_kl), color, x(r.f16_ratio) + 6, y(r.mean_kl) - 4, r.cache);
    }
    out += "</svg>\n";
    return out;
}

Result<KvBenchmarkReport> run_kv_benchmark(const KvBenchmarkOptions& options) {
    const auto t0 = SteadyClock::now();
    KvBenchmarkReport report;
    const auto say = [&](const std::string& s) {
        if (options.progress) options.progress(s);
    };
    if (!options.stories_path.empty()) {
        KASTEN_ASSIGN_OR_RETURN(std::shared_ptr<const LlamaModel> m, LlamaModel::open(options.stories_path));
        KASTEN_ASSIGN_OR_RETURN(std::unique_ptr<Tokenizer> tok, load_gguf_tokenizer(options.stories_path));
        const int bos = tok->bos() >= 0 ? tok->bos() : 1;
        const int n_ctx = options.n_ctx;
        const int n_tokens = options.sample_tokens > 0 ? std::min(options.sample_tokens, n_ctx) : n_ctx;
        report.n_ctx = n_ctx;
        report.samples = options.samples;
        report.sample_tokens = n_tokens;
        ThreadPool pool(1);
        std::vector<Sample> samples;
        for (int i = 0; i < options.samples; ++i) {
            KASTEN_ASSIGN_OR_RETURN(Sample s, write_sample(m, pool, bos, n_tokens, static_cast<std::uint64_t>(i + 1)));
            samples.push_back(std::move(s));
        }
        say(fmt::format("wrote {} samples of {} tokens", samples.size(), n_tokens));
        auto configs = options.quality_configs.empty() ? default_kv_quality_configs(n_ctx) : options.quality_configs;
        if (!options.sim_schemes.empty()) {
            configs = {{"f16"}};
            for (const std::string& scheme : options.sim_schemes) {
                KASTEN_RETURN_IF_ERROR(parse_sim_spec(scheme).status());
                configs.push_back({"sim:" + scheme});
            }
        }
        if (!options.only.empty()) {
            std::erase_if(configs, [&](const KvBenchConfig& c) {
                return c.policy != "f16" && label(c).find(options.only) == std::string::npos;
            });
        }
        std::uint64_t f16_bytes = 0;
        {
            KASTEN_ASSIGN_OR_RETURN(auto f16, make_config_cache({"f16"}, m->config(), n_ctx));
            f16_bytes = f16->bytes();
        }
        std::map<std::pair<int, int>, VqCalibration> calibrations;  // by (first seed, number of texts)
        for (const KvBenchConfig& c : configs) {
            QualityAccumulator acc;
            KvQualityRow row;
            row.policy = label(c);
            std::shared_ptr<const VqCodebooks> codebooks;
            if (c.policy.rfind("sim:", 0) == 0) {
                KASTEN_ASSIGN_OR_RETURN(SimKvSpec spec, parse_sim_spec(c.policy.substr(4)));
                if (spec.vq) {
                    const std::pair<int, int> key{spec.vq_seed, spec.vq_calib};
                    if (!calibrations.count(key)) {
                        const auto tc = SteadyClock::now();
                        KASTEN_ASSIGN_OR_RETURN(
                            VqCalibration cal, record_calibration(m, pool, bos, n_tokens, spec.vq_calib, spec.vq_seed));
                        say(fmt::format("vq calibration: {} texts from seed {}, {} cells ({:.1f} s)", spec.vq_calib,
                                        spec.vq_seed, cal.n, seconds_since(tc)));
                        calibrations.emplace(key, std::move(cal));
                    }
                    const auto tb = SteadyClock::now();
                    codebooks = build_vq_codebooks(calibrations.at(key), spec, Rope(m->config()));
                    const auto bits = [](int c, int b1, int b2) { return b1 == 0 ? 16.0 : double(b1 + b2) / c; };
                    const double kbits = bits(spec.vq_kc, spec.vq_kb, spec.vq_kb2);
                    const double vbits = bits(spec.vq_vc, spec.vq_vb, spec.vq_vb2);
                    say(
                        fmt::format("vq {}: K {:.3f} + V {:.3f} bits/number (mean {:.3f}); codebooks {} B = {:.4f} x "
                                    "f16 at {} tokens; train mse K {:.3e} V {:.3e} (y space); {:.1f} s",
                                    c.policy, kbits, vbits, (kbits + vbits) / 2, codebooks->bytes,
                                    double(codebooks->bytes) / double(f16_bytes), n_ctx, codebooks->train_mse[0],
                                    codebooks->train_mse[1], seconds_since(tb)));
                }
            }
            for (const Sample& s : samples) {
                KASTEN_ASSIGN_OR_RETURN(auto cache, make_config_cache(c, m->config(), n_ctx, 1, codebooks));
                row.cache = cache->name();
                row.bytes = cache->bytes();
                KASTEN_RETURN_IF_ERROR(teacher_force(m, pool, std::move(cache), s, acc, c.prompt));
            }
            row.bytes_per_token = static_cast<double>(row.bytes) / n_ctx;
            row.f16_ratio = static_cast<double>(row.bytes) / static_cast<double>(f16_bytes);
            row.mean_kl = acc.kl / static_cast<double>(std::max(1LL, acc.positions));
            row.max_kl = acc.max_kl;
            row.top1_agreement = acc.agree / static_cast<double>(std::max(1LL, acc.positions));
            row.ppl_full = std::exp(acc.nll_full / static_cast<double>(std::max(1LL, acc.predictions)));
            row.ppl = std::exp(acc.nll / static_cast<double>(std::max(1LL, acc.predictions)));
            row.peak_bytes = std::max<std::uint64_t>(row.bytes, acc.peak_bytes);
            const double cb_bytes = codebooks ? static_cast<double>(codebooks->bytes) : 0.0;
            say(fmt::format(
                "{}: {:.1f} B/token ({:.4f} x f16; without codebooks {:.4f}), mean KL {:.2e}, max KL {:.3f}, top-1 "
                "{:.2f}%, ppl {:.4f} (full {:.4f})",
                row.cache, row.bytes_per_token, row.f16_ratio, (double(row.bytes) - cb_bytes) / double(f16_bytes),
                row.mean_kl, row.max_kl, 100 * row.top1_agreement, row.ppl, row.ppl_full));
            report.quality.push_back(row);
        }
    }
    if (options.include_speed) {
        if (options.work_dir.empty()) return Status::invalid_argument("kv benchmark: work_dir is empty");
        std::error_code ec;
        std::filesystem::create_directories(options.work_dir, ec);
        if (ec) return Status::io_error(fmt::format("cannot create '{}': {}", options.work_dir, ec.message()));
        const std::string path = options.work_dir + "/random-135M-Q8_0.gguf";
        say(fmt::format("writing {}", path));
        KASTEN_RETURN_IF_ERROR(write_random_model(RandomModelSpec::smollm2_135m_shape(TensorType::kQ8_0), path));
        Status st = [&]() -> Status {
            KASTEN_ASSIGN_OR_RETURN(std::shared_ptr<const LlamaModel> m, LlamaModel::open(path));
            ThreadPool pool(options.threads);
            auto configs = options.speed_configs.empty() ? default_kv_speed_configs() : options.speed_configs;
            if (!options.only.empty()) {
                std::erase_if(configs, [&](const KvBenchConfig& c) {
                    return c.policy != "f16" && label(c).find(options.only) == std::string::npos;
                });
            }
            for (int context : options.speed_contexts) {
                std::map<std::string, KvSpeedRow> best;
                for (int round = 0; round < options.rounds; ++round) {
                    for (const KvBenchConfig& c : configs) {
                        const int n_ctx = context + options.steps + 4;
                        KASTEN_ASSIGN_OR_RETURN(auto cache, make_config_cache(c, m->config(), n_ctx, kSyntheticBatch));
                        // Eviction caches' last prefill batch attends with queries (cheap: they keep 1024 cells).
                        const bool evicting = dynamic_cast<const EvictingKvCache*>(cache.get()) != nullptr;
                        const double commit_ms = fill_synthetic(
                            *cache, context - 1, evicting ? m->config().n_head / m->config().n_head_kv : 0);
                        const double attention_ms = time_attention(*cache, m->config(), context - 1);
                        LlamaContext ctx(m, std::move(cache), &pool);
                        int token = 3;
                        KASTEN_RETURN_IF_ERROR(ctx.eval(std::span<const int>(&token, 1)));
                        const auto t1 = SteadyClock::now();
                        for (int i = 0; i < options.steps; ++i) {
                            token = 3 + (token * 7919 + i) % (m->config().n_vocab - 3);
                            KASTEN_RETURN_IF_ERROR(ctx.eval(std::span<const int>(&token, 1)));
                        }
                        const double tps = options.steps / seconds_since(t1);
                        KvSpeedRow& row = best[label(c)];
                        row.cache = ctx.cache().name();
                        row.policy = label(c);
                        row.context = context;
                        row.bytes = ctx.cache().bytes();
                        row.tokens_per_s = std::max(row.tokens_per_s, tps);
                        row.attention_ms =
                            row.attention_ms == 0 ? attention_ms : std::min(row.attention_ms, attention_ms);
                        row.commit_ms = round == 0 ? commit_ms : std::min(row.commit_ms, commit_ms);
                    }
                }
                const double f16 = best.count("f16") ? best["f16"].tokens_per_s : 0.0;
                const double f16_attention = best.count("f16") ? best["f16"].attention_ms : 0.0;
                for (const KvBenchConfig& c : configs) {
                    KvSpeedRow row = best[label(c)];
                    row.vs_f16 = f16 > 0 ? row.tokens_per_s / f16 : 0.0;
                    row.attention_vs_f16 = row.attention_ms > 0 ? f16_attention / row.attention_ms : 0.0;
                    say(fmt::format("ctx {} {}: {:.2f} tok/s ({:.2f} x f16); attention {:.2f} ms ({:.2f} x f16)",
                                    context, row.cache, row.tokens_per_s, row.vs_f16, row.attention_ms,
                                    row.attention_vs_f16));
                    report.speed.push_back(row);
                }
            }
            return Status::ok();
        }();
        std::filesystem::remove(path, ec);
        KASTEN_RETURN_IF_ERROR(st);
    }
    report.seconds = seconds_since(t0);
    return report;
}

}  // namespace kasten::llm
