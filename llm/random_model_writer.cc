#include "llm/random_model_writer.h"

#include <cmath>
#include <vector>

#include <fmt/format.h>

#include "llm/gguf_writer.h"
#include "llm/quantization.h"

namespace kasten::llm {
namespace {

// splitmix64: a fast, well-mixed generator; one stream per tensor, seeded from the spec seed and tensor index.
class SplitMix {
  public:
    explicit SplitMix(std::uint64_t seed) : state_(seed) {}
    std::uint64_t next() {
        std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        return z ^ (z >> 31);
    }
    // Uniform in [−1, 1).
    float uniform() { return static_cast<float>(static_cast<double>(next() >> 11) * 0x1.0p-52 - 1.0); }

  private:
    std::uint64_t state_;
};

TensorType storage_type(TensorType wanted, int cols) {
    if (cols % static_cast<int>(tensor_type_traits(wanted).block_size) == 0) return wanted;
    return TensorType::kF16;
}

std::uint32_t file_type_of(TensorType t) {
    switch (t) {
        case TensorType::kF32:
            return 0;
        case TensorType::kF16:
            return 1;
        case TensorType::kQ4_0:
            return 2;
        case TensorType::kQ8_0:
            return 7;
        case TensorType::kQ4_K:
            return 14;
        case TensorType::kQ6_K:
            return 18;
        default:
            return 0;
    }
}

}  // namespace

RandomModelSpec RandomModelSpec::smollm2_135m_shape(TensorType type) {
    RandomModelSpec s;
    s.n_vocab = 49152;
    s.n_embd = 576;
    s.n_layer = 30;
    s.n_head = 9;
    s.n_head_kv = 3;
    s.n_ff = 1536;
    s.context_length = 8192;
    s.tied_output = true;
    s.type = type;
    return s;
}

Status write_random_model(const RandomModelSpec& spec, const std::string& path) {
    if (spec.n_embd <= 0 || spec.n_layer <= 0 || spec.n_head <= 0 || spec.n_head_kv <= 0 || spec.n_ff <= 0 ||
        spec.n_head % spec.n_head_kv != 0 || spec.n_embd % spec.n_head != 0 || (spec.n_embd / spec.n_head) % 2 != 0) {
        return Status::invalid_argument("random model: inconsistent shape");
    }
    if (spec.n_vocab < 259) return Status::invalid_argument("random model: n_vocab must be at least 259");
    if (!is_compute_type(spec.type)) {
        return Status::invalid_argument(
            fmt::format("random model: cannot store weights as {}", tensor_type_name(spec.type)));
    }
    const std::string arch(architecture_name(spec.architecture));
    const int head_dim = spec.n_embd / spec.n_head;
    GgufWriter w;
    w.set("general.architecture", GgufValue::string(arch));
    w.set("general.name", GgufValue::string(fmt::format("kasten-random-{}x{}", spec.n_layer, spec.n_embd)));
    w.set("general.file_type", GgufValue::u32(file_type_of(spec.type)));
    if (spec.type != TensorType::kF32 && spec.type != TensorType::kF16) {
        w.set("general.quantization_version", GgufValue::u32(2));
    }
    w.set(arch + ".context_length", GgufValue::u32(static_cast<std::uint32_t>(spec.context_length)));
    w.set(arch + ".embedding_length", GgufValue::u32(static_cast<std::uint32_t>(spec.n_embd)));
    w.set(arch + ".block_count", GgufValue::u32(static_cast<std::uint32_t>(spec.n_layer)));
    w.set(arch + ".feed_forward_length", GgufValue::u32(static_cast<std::uint32_t>(spec.n_ff)));
    w.set(arch + ".attention.head_count", GgufValue::u32(static_cast<std::uint32_t>(spec.n_head)));
    w.set(arch + ".attention.head_count_kv", GgufValue::u32(static_cast<std::uint32_t>(spec.n_head_kv)));
    w.set(arch + ".rope.dimension_count", GgufValue::u32(static_cast<std::uint32_t>(head_dim)));
    w.set(arch + ".rope.freq_base", GgufValue::f32(10000.0f));
    w.set(arch + ".attention.layer_norm_rms_epsilon", GgufValue::f32(1e-5f));

    std::vector<std::string> tokens = {"<unk>", "<s>", "</s>"};
    std::vector<std::int32_t> types = {2, 3, 3};
    for (int b = 0; b < 256; ++b) {
        tokens.push_back(fmt::format("<0x{:02X}>", b));
        types.push_back(6);
    }
    while (static_cast<int>(tokens.size()) < spec.n_vocab) {
        tokens.push_back(fmt::format("\xE2\x96\x81t{}", tokens.size()));
        types.push_back(1);
    }
    std::vector<float> scores(tokens.size(), 0.0f);
    for (std::size_t i = 259; i < scores.size(); ++i) scores[i] = -static_cast<float>(i);
    w.set("tokenizer.ggml.model", GgufValue::string("llama"));
    w.set("tokenizer.ggml.tokens", GgufValue::string_array(tokens));
    w.set("tokenizer.ggml.scores", GgufValue::f32_array(scores));
    w.set("tokenizer.ggml.token_type", GgufValue::i32_array(types));
    w.set("tokenizer.ggml.bos_token_id", GgufValue::u32(1));
    w.set("tokenizer.ggml.eos_token_id", GgufValue::u32(2));
    w.set("tokenizer.ggml.unknown_token_id", GgufValue::u32(0));

    std::uint64_t tensor_index = 0;
    auto add_matrix = [&](const std::string& name, int cols, int rows) -> Status {
        const TensorType type = storage_type(spec.type, cols);
        const std::uint64_t seed = spec.seed * 0x100000001B3ull + ++tensor_index;
        const float amplitude = spec.weight_scale * std::sqrt(3.0f);
        return w.add_tensor(
            name, type, {static_cast<std::uint64_t>(cols), static_cast<std::uint64_t>(rows)},
            [=](std::span<std::uint8_t> out) -> Status {
                SplitMix rng(seed);
                std::vector<float> row(static_cast<std::size_t>(cols));
                const std::size_t stride = row_bytes(type, static_cast<std::size_t>(cols));
                for (int r = 0; r < rows; ++r) {
                    for (float& v : row) v = amplitude * rng.uniform();
                    KASTEN_RETURN_IF_ERROR(
                        quantize_row(type, row.data(), row.size(), out.data() + static_cast<std::size_t>(r) * stride));
                }
                return Status::ok();
            });
    };
    auto add_vector = [&](const std::string& name, int n, float base, float jitter) -> Status {
        const std::uint64_t seed = spec.seed * 0x100000001B3ull + ++tensor_index;
        return w.add_tensor(name, TensorType::kF32, {static_cast<std::uint64_t>(n)},
                            [=](std::span<std::uint8_t> out) -> Status {
                                SplitMix rng(seed);
                                auto* f = reinterpret_cast<float*>(out.data());
                                for (int i = 0; i < n; ++i) f[i] = base + jitter * rng.uniform();
                                return Status::ok();
                            });
    };

    const int q_dim = spec.n_head * head_dim;
    const int kv_dim = spec.n_head_kv * head_dim;
    const bool bias = spec.qkv_bias || spec.architecture == ModelArchitecture::kQwen2;
    KASTEN_RETURN_IF_ERROR(add_matrix("token_embd.weight", spec.n_embd, spec.n_vocab));
    KASTEN_RETURN_IF_ERROR(add_vector("output_norm.weight", spec.n_embd, 1.0f, 0.1f));
    if (!spec.tied_output) KASTEN_RETURN_IF_ERROR(add_matrix("output.weight", spec.n_embd, spec.n_vocab));
    for (int l = 0; l < spec.n_layer; ++l) {
        const std::string p = fmt::format("blk.{}.", l);
        KASTEN_RETURN_IF_ERROR(add_vector(p + "attn_norm.weight", spec.n_embd, 1.0f, 0.1f));
        KASTEN_RETURN_IF_ERROR(add_matrix(p + "attn_q.weight", spec.n_embd, q_dim));
        KASTEN_RETURN_IF_ERROR(add_matrix(p + "attn_k.weight", spec.n_embd, kv_dim));
        KASTEN_RETURN_IF_ERROR(add_matrix(p + "attn_v.weight", spec.n_embd, kv_dim));
        if (bias) {
            KASTEN_RETURN_IF_ERROR(add_vector(p + "attn_q.bias", q_dim, 0.0f, 0.1f));
            KASTEN_RETURN_IF_ERROR(add_vector(p + "attn_k.bias", kv_dim, 0.0f, 0.1f));
            KASTEN_RETURN_IF_ERROR(add_vector(p + "attn_v.bias", kv_dim, 0.0f, 0.1f));
        }
        KASTEN_RETURN_IF_ERROR(add_matrix(p + "attn_output.weight", q_dim, spec.n_embd));
        KASTEN_RETURN_IF_ERROR(add_vector(p + "ffn_norm.weight", spec.n_embd, 1.0f, 0.1f));
        KASTEN_RETURN_IF_ERROR(add_matrix(p + "ffn_gate.weight", spec.n_embd, spec.n_ff));
        KASTEN_RETURN_IF_ERROR(add_matrix(p + "ffn_down.weight", spec.n_ff, spec.n_embd));
        KASTEN_RETURN_IF_ERROR(add_matrix(p + "ffn_up.weight", spec.n_embd, spec.n_ff));
    }
    return w.write(path);
}

}  // namespace kasten::llm
