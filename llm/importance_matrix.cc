#include "llm/importance_matrix.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include <fmt/format.h>

#include "llm/calibration_forward.h"
#include "llm/dot_kernels.h"
#include "llm/llama_context.h"
#include "llm/sampler.h"

namespace kasten::llm {
namespace {

constexpr int kMaxSequence = 4096;

// Sums of x² (and of x·xᵀ, lower triangle) over the inputs of the tensors in `names`.
struct Sums {
    std::vector<std::string> names;
    std::vector<double> diag;
    std::vector<double> outer;
};

void accumulate(Sums& s, std::span<const std::string> names, const float* x, int n, int width, bool outer) {
    s.names.assign(names.begin(), names.end());
    const auto w = static_cast<std::size_t>(width);
    s.diag.resize(w, 0.0);
    for (int t = 0; t < n; ++t) {
        const float* xt = x + static_cast<std::size_t>(t) * w;
        for (std::size_t j = 0; j < w; ++j) s.diag[j] += static_cast<double>(xt[j]) * xt[j];
    }
    if (!outer) return;
    // One sequence's x·xᵀ (lower half) in float, added to the double total.
    std::vector<float> part(w * w, 0.0f);
    for (int t = 0; t < n; ++t) {
        const float* xt = x + static_cast<std::size_t>(t) * w;
        for (std::size_t i = 0; i < w; ++i) axpy_f32(xt[i], xt, &part[i * w], i + 1);
    }
    s.outer.resize(w * w, 0.0);
    for (std::size_t k = 0; k < part.size(); ++k) s.outer[k] += part[k];
}

}  // namespace

std::size_t ImportanceMatrix::second_moment_bytes(const ModelConfig& c) {
    // Per layer the attention input, the attention output, the feed-forward input and its hidden state, plus
    // the classifier's input.
    auto sq = [](int w) { return static_cast<std::size_t>(w) * static_cast<std::size_t>(w); };
    return sizeof(float) *
           (static_cast<std::size_t>(c.n_layer) * (2 * sq(c.n_embd) + sq(c.n_head * c.head_dim) + sq(c.n_ff)) +
            sq(c.n_embd));
}

Result<ImportanceMatrix> ImportanceMatrix::collect(const LlamaModel& model, std::span<const std::vector<int>> sequences,
                                                   ThreadPool* pool, std::size_t max_second_moment_bytes) {
    std::int64_t total = 0;
    for (const std::vector<int>& s : sequences) {
        if (s.size() > kMaxSequence) {
            return Status::invalid_argument(
                fmt::format("calibration sequence of {} tokens is longer than {}", s.size(), kMaxSequence));
        }
        for (int t : s) {
            if (t < 0 || t >= model.config().n_vocab) {
                return Status::invalid_argument(fmt::format("calibration token {} is outside the vocabulary", t));
            }
        }
        total += static_cast<std::int64_t>(s.size());
    }
    if (total == 0) return Status::invalid_argument("no calibration tokens");
    const bool second_moments = 2 * second_moment_bytes(model.config()) <= max_second_moment_bytes;
    std::map<std::string, Sums> sums;
    CalibrationForward forward(model, pool);
    auto hook = [&](std::span<const std::string> names, const float* x, int n, int width) {
        accumulate(sums[names.front()], names, x, n, width, second_moments);
        return true;
    };
    for (const std::vector<int>& s : sequences) {
        if (!s.empty()) forward.run(s, hook);
    }
    ImportanceMatrix im;
    im.n_tokens_ = total;
    const double inv = 1.0 / static_cast<double>(total);
    for (auto& [first, sum] : sums) {
        auto site = std::make_shared<Site>();
        const std::size_t w = sum.diag.size();
        site->importance.resize(w);
        for (std::size_t j = 0; j < w; ++j) site->importance[j] = static_cast<float>(sum.diag[j] * inv);
        if (!sum.outer.empty()) {
            site->second_moment.resize(w * w);
            for (std::size_t i = 0; i < w; ++i) {
                for (std::size_t j = 0; j <= i; ++j) {
                    const auto v = static_cast<float>(sum.outer[i * w + j] * inv);
                    site->second_moment[i * w + j] = v;
                    site->second_moment[j * w + i] = v;
                }
            }
        }
        for (const std::string& name : sum.names) im.sites_.emplace(name, site);
    }
    return im;
}

std::span<const float> ImportanceMatrix::of(const std::string& name) const {
    auto it = sites_.find(name);
    if (it == sites_.end()) return {};
    return it->second->importance;
}

std::span<const float> ImportanceMatrix::second_moment(const std::string& name) const {
    auto it = sites_.find(name);
    if (it == sites_.end()) return {};
    return it->second->second_moment;
}

Result<std::vector<std::vector<int>>> generate_calibration(const std::shared_ptr<const LlamaModel>& model,
                                                           const Tokenizer& tokenizer,
                                                           std::span<const std::string> prompts, int n_tokens,
                                                           int max_generate, std::uint64_t seed, ThreadPool& pool) {
    if (prompts.empty() || n_tokens < 1) return Status::invalid_argument("calibration needs prompts and tokens");
    const int train = model->config().train_context;
    const int n_ctx = train > 0 ? std::min(train, kMaxSequence) : kMaxSequence;
    std::vector<std::vector<int>> out;
    std::int64_t total = 0;
    for (std::size_t i = 0; total < n_tokens; ++i) {
        std::vector<int> tokens = tokenizer.encode(prompts[i % prompts.size()], EncodeOptions{.add_special = true});
        if (tokens.empty() || static_cast<int>(tokens.size()) >= n_ctx) {
            return Status::invalid_argument(
                fmt::format("calibration prompt of {} tokens does not fit a context of {}", tokens.size(), n_ctx));
        }
        LlamaContext ctx(model, LlamaContext::make_full_cache(model->config(), n_ctx), &pool);
        KASTEN_RETURN_IF_ERROR(ctx.eval(tokens));
        SamplerOptions o;
        o.temperature = 0.8f;
        o.seed = seed + i;
        Sampler sampler(o);
        for (int t : tokens) sampler.accept(t);
        const std::size_t limit = std::min(tokens.size() + static_cast<std::size_t>(std::max(max_generate, 1)),
                                           static_cast<std::size_t>(n_ctx));
        while (tokens.size() < limit) {
            KASTEN_ASSIGN_OR_RETURN(int next, sampler.sample(ctx.logits()));
            if (tokenizer.is_end_of_generation(next)) break;
            tokens.push_back(next);
            if (tokens.size() < limit) KASTEN_RETURN_IF_ERROR(ctx.eval(std::span<const int>(&tokens.back(), 1)));
        }
        total += static_cast<std::int64_t>(tokens.size());
        out.push_back(std::move(tokens));
    }
    return out;
}

std::vector<std::string> default_calibration_prompts() {
    return {"The little dog",    "Lily wanted",   "One day, a boy named Tom", "The sun was", "Mom said",
            "In the big forest", "She looked at", "After school, the kids"};
}

Result<std::vector<std::vector<int>>> calibration_from_text(const Tokenizer& tokenizer, std::string_view text,
                                                            int chunk) {
    if (chunk < 2) return Status::invalid_argument("calibration chunks need at least 2 tokens");
    std::vector<int> tokens = tokenizer.encode(text);
    if (tokens.empty()) return Status::invalid_argument("empty calibration text");
    const bool bos = tokenizer.add_bos() && tokenizer.bos() >= 0;
    const std::size_t body = static_cast<std::size_t>(chunk) - (bos ? 1 : 0);
    std::vector<std::vector<int>> out;
    for (std::size_t i = 0; i < tokens.size(); i += body) {
        const std::size_t end = std::min(tokens.size(), i + body);
        std::vector<int> seq(end - i + (bos ? 1 : 0));
        if (bos) seq[0] = tokenizer.bos();
        std::copy(tokens.begin() + static_cast<std::ptrdiff_t>(i), tokens.begin() + static_cast<std::ptrdiff_t>(end),
                  seq.begin() + (bos ? 1 : 0));
        out.push_back(std::move(seq));
    }
    return out;
}

}  // namespace kasten::llm
