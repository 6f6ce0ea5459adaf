#include "llm/mixed_precision.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string_view>

#include <fmt/format.h>

#include "llm/calibration_forward.h"
#include "llm/importance_matrix.h"
#include "llm/sequential_quantizer.h"

namespace kasten::llm {
namespace {

constexpr std::int64_t kMaxTokens = 1024;
constexpr std::size_t kMaxReferenceBytes = std::size_t{256} << 20;

// Rows of logits [n × vocab] to log-probabilities, in place.
void log_softmax(std::vector<float>& logits, std::size_t vocab) {
    for (std::size_t r = 0; r < logits.size() / vocab; ++r) {
        float* l = &logits[r * vocab];
        const float max = *std::max_element(l, l + vocab);
        double sum = 0.0;
        for (std::size_t j = 0; j < vocab; ++j) sum += std::exp(static_cast<double>(l[j] - max));
        const auto log_z = static_cast<float>(max + std::log(sum));
        for (std::size_t j = 0; j < vocab; ++j) l[j] -= log_z;
    }
}

// Σ over rows of KL(p ‖ q) from log-probabilities.
double kl_sum(const std::vector<float>& log_p, const std::vector<float>& log_q, std::size_t vocab) {
    double kl = 0.0;
    for (std::size_t r = 0; r < log_p.size() / vocab; ++r) {
        const float* p = &log_p[r * vocab];
        const float* q = &log_q[r * vocab];
        for (std::size_t j = 0; j < vocab; ++j) kl += std::exp(static_cast<double>(p[j])) * (p[j] - q[j]);
    }
    return kl;
}

// The first block whose result depends on matrix `name`: 2·L for blk.L.attn_*, 2·L + 1 for blk.L.ffn_*, all
// blocks done for the classifier, −1 (the embedding lookup) for token_embd.
int first_block(const std::string& name, const LlamaModel& model) {
    if (name == "token_embd.weight") return -1;
    if (name == "output.weight") return 2 * model.config().n_layer;
    int layer = 0;
    char kind[16] = {};
    if (std::sscanf(name.c_str(), "blk.%d.%15[a-z]", &layer, kind) == 2) {
        return 2 * layer + (std::string_view(kind) == "ffn" ? 1 : 0);
    }
    return -1;
}

}  // namespace

Result<MixedPrecisionPlan> plan_mixed_precision(const LlamaModel& model, const std::map<std::string, TensorType>& plan,
                                                TensorType low, TensorType high, double max_kl,
                                                std::span<const std::vector<int>> sequences, ThreadPool* pool) {
    if (low != TensorType::kQ8_0 && low != TensorType::kQ4_0) {
        return Status::invalid_argument(fmt::format("mixed precision from {}", tensor_type_name(low)));
    }
    // The measurement tokens: whole calibration sequences, up to kMaxTokens.
    std::vector<std::vector<int>> tokens;
    std::int64_t n_tokens = 0;
    for (const std::vector<int>& s : sequences) {
        if (n_tokens >= kMaxTokens) break;
        if (s.empty()) continue;
        tokens.push_back(s);
        n_tokens += static_cast<std::int64_t>(s.size());
    }
    if (n_tokens == 0) return Status::invalid_argument("no calibration tokens");
    const auto vocab = static_cast<std::size_t>(model.config().n_vocab);
    // Reference log-probabilities and residual snapshots before every block.
    const auto n_embd = static_cast<std::size_t>(model.config().n_embd);
    const auto snapshots_per_token = n_embd * static_cast<std::size_t>(2 * model.config().n_layer + 1);
    if (static_cast<std::size_t>(n_tokens) * (vocab + snapshots_per_token) * sizeof(float) > kMaxReferenceBytes) {
        return Status::not_supported("the model is too large for measured mixed precision");
    }
    KASTEN_ASSIGN_OR_RETURN(ImportanceMatrix stats, ImportanceMatrix::collect(model, tokens, pool));
    CalibrationForward forward(model, pool);
    const auto pass = [](std::span<const std::string>, const float*, int, int) { return true; };
    // The reference log-probabilities, and the residual stream of every sequence before every block, so that a
    // candidate's run starts at the block that reads it.
    const int n_blocks = forward.n_blocks();
    std::vector<std::vector<float>> reference(tokens.size());
    std::vector<std::vector<CalibrationForward::Sequence>> snapshots(tokens.size());
    for (std::size_t i = 0; i < tokens.size(); ++i) {
        CalibrationForward::Sequence s = forward.start(tokens[i]);
        for (int b = 0; b < n_blocks; ++b) {
            snapshots[i].push_back(s);
            forward.run_block(s, pass);
        }
        snapshots[i].push_back(s);
        forward.finish(s, pass, &reference[i]);
        log_softmax(reference[i], vocab);
    }

    struct Candidate {
        std::string name;
        double kl = 0.0;         // mean KL over the measurement tokens
        double extra_bytes = 0;  // bytes the high type costs over the low one
    };
    std::vector<Candidate> candidates;
    const std::map<std::string, const WeightMatrix*> matrices = CalibrationForward::matrices(model);
    std::vector<float> logits;
    for (const auto& [name, type] : plan) {
        if (type != low) continue;
        auto it = matrices.find(name);
        if (it == matrices.end()) return Status::invalid_argument(fmt::format("no matrix '{}' in the model", name));
        const WeightMatrix& src = *it->second;
        const auto rows = static_cast<std::size_t>(src.rows()), cols = static_cast<std::size_t>(src.cols());
        const std::span<const float> h = stats.second_moment(name);
        if (h.empty() && stats.of(name).size() == cols) {
            return Status::not_supported("the model is too large for measured mixed precision");
        }
        KASTEN_ASSIGN_OR_RETURN(QuantizedMatrix q, quantize_matrix(matrix_to_float(src), rows, cols, low, h));
        KASTEN_ASSIGN_OR_RETURN(WeightMatrix view, q.view(name, src.rows(), src.cols(), model.isa()));
        forward.substitute(name, &view);
        const int first = first_block(name, model);
        double kl = 0.0;
        for (std::size_t i = 0; i < tokens.size(); ++i) {
            CalibrationForward::Sequence s =
                first < 0 ? forward.start(tokens[i]) : snapshots[i][static_cast<std::size_t>(first)];
            while (s.blocks_done < n_blocks) forward.run_block(s, pass);
            forward.finish(s, pass, &logits);
            log_softmax(logits, vocab);
            kl += kl_sum(reference[i], logits, vocab);
        }
        forward.substitute(name, nullptr);
        const double extra = static_cast<double>(row_bytes(high, cols)) - static_cast<double>(row_bytes(low, cols));
        candidates.push_back({name, kl / static_cast<double>(n_tokens), extra * static_cast<double>(rows)});
    }

    MixedPrecisionPlan out;
    out.types = plan;
    for (const Candidate& c : candidates) out.low_kl += c.kl;
    out.predicted_kl = out.low_kl;
    std::stable_sort(candidates.begin(), candidates.end(), [](const Candidate& a, const Candidate& b) {
        return a.kl * b.extra_bytes > b.kl * a.extra_bytes;  // damage per extra byte, largest first
    });
    for (const Candidate& c : candidates) {
        if (out.predicted_kl <= max_kl) break;
        out.types[c.name] = high;
        out.promoted.push_back(c.name);
        out.predicted_kl -= c.kl;
    }
    out.predicted_kl = std::max(out.predicted_kl, 0.0);
    return out;
}

}  // namespace kasten::llm
