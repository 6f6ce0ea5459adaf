#include "llm/model_config.h"

#include <fmt/format.h>

#include "llm/gguf_reader.h"

namespace kasten::llm {
namespace {

Result<int> get_int(const GgufReader& gguf, const std::string& key) {
    KASTEN_ASSIGN_OR_RETURN(std::uint64_t v, gguf.get_uint(key));
    if (v > (1u << 30)) return Status::invalid_argument(fmt::format("metadata '{}' = {} is out of range", key, v));
    return static_cast<int>(v);
}

Result<int> get_int_or(const GgufReader& gguf, const std::string& key, int fallback) {
    if (gguf.find(key) == nullptr) return fallback;
    return get_int(gguf, key);
}

}  // namespace

std::string_view architecture_name(ModelArchitecture arch) {
    switch (arch) {
        case ModelArchitecture::kLlama:
            return "llama";
        case ModelArchitecture::kQwen2:
            return "qwen2";
    }
    return "unknown";
}

Status ModelConfig::validate() const {
    if (n_embd <= 0 || n_layer <= 0 || n_head <= 0 || n_head_kv <= 0 || head_dim <= 0 || n_ff <= 0) {
        return Status::invalid_argument("model sizes must be positive: " + describe());
    }
    constexpr int kMaxLayers = 1024, kMaxHeads = 1024, kMaxWidth = 1 << 20;
    if (n_layer > kMaxLayers || n_head > kMaxHeads || n_head_kv > kMaxHeads || head_dim > 4096 || n_embd > kMaxWidth ||
        n_ff > kMaxWidth) {
        return Status::invalid_argument("model sizes out of range: " + describe());
    }
    if (n_head % n_head_kv != 0) {
        return Status::invalid_argument(fmt::format("n_head {} is not a multiple of n_head_kv {}", n_head, n_head_kv));
    }
    if (n_rot <= 0 || n_rot > head_dim || n_rot % 2 != 0) {
        return Status::invalid_argument(fmt::format("rope dimension {} is invalid for head_dim {}", n_rot, head_dim));
    }
    if (!(rms_eps > 0.0f) || !(rope_freq_base > 0.0f) || !(rope_freq_scale > 0.0f)) {
        return Status::invalid_argument("rms epsilon and rope base/scale must be positive");
    }
    return Status::ok();
}

std::string ModelConfig::describe() const {
    return fmt::format(
        "{} vocab {} width {} layers {} heads {}/{} kv head_dim {} ffn {} rope {} dims {} base {} scale {} eps {} "
        "train_ctx {}",
        architecture_name(architecture), n_vocab, n_embd, n_layer, n_head, n_head_kv, head_dim, n_ff,
        rope_style == RopeStyle::kNormal ? "normal" : "neox", n_rot, rope_freq_base, rope_freq_scale, rms_eps,
        train_context);
}

Result<ModelConfig> model_config_from_gguf(const GgufReader& gguf) {
    KASTEN_ASSIGN_OR_RETURN(std::string arch, gguf.get_string("general.architecture"));
    ModelConfig c;
    if (arch == "llama") {
        c.architecture = ModelArchitecture::kLlama;
        c.rope_style = RopeStyle::kNormal;
    } else if (arch == "qwen2") {
        c.architecture = ModelArchitecture::kQwen2;
        c.rope_style = RopeStyle::kNeox;
    } else {
        return Status::not_supported(fmt::format("architecture '{}' (supported: llama, qwen2)", arch));
    }
    const std::string p = arch + ".";
    KASTEN_ASSIGN_OR_RETURN(c.n_embd, get_int(gguf, p + "embedding_length"));
    KASTEN_ASSIGN_OR_RETURN(c.n_layer, get_int(gguf, p + "block_count"));
    KASTEN_ASSIGN_OR_RETURN(c.n_ff, get_int(gguf, p + "feed_forward_length"));
    KASTEN_ASSIGN_OR_RETURN(c.n_head, get_int(gguf, p + "attention.head_count"));
    KASTEN_ASSIGN_OR_RETURN(c.n_head_kv, get_int_or(gguf, p + "attention.head_count_kv", c.n_head));
    KASTEN_ASSIGN_OR_RETURN(c.train_context, get_int_or(gguf, p + "context_length", 0));
    KASTEN_ASSIGN_OR_RETURN(c.n_vocab, get_int_or(gguf, p + "vocab_size", 0));
    if (c.n_head <= 0) return Status::invalid_argument("attention.head_count must be positive");
    KASTEN_ASSIGN_OR_RETURN(c.head_dim, get_int_or(gguf, p + "attention.key_length", c.n_embd / c.n_head));
    KASTEN_ASSIGN_OR_RETURN(int value_dim, get_int_or(gguf, p + "attention.value_length", c.head_dim));
    if (value_dim != c.head_dim) {
        return Status::not_supported(fmt::format("key length {} != value length {}", c.head_dim, value_dim));
    }
    KASTEN_ASSIGN_OR_RETURN(c.n_rot, get_int_or(gguf, p + "rope.dimension_count", c.head_dim));
    KASTEN_ASSIGN_OR_RETURN(double eps, gguf.get_float(p + "attention.layer_norm_rms_epsilon"));
    c.rms_eps = static_cast<float>(eps);
    if (gguf.find(p + "rope.freq_base") != nullptr) {
        KASTEN_ASSIGN_OR_RETURN(double base, gguf.get_float(p + "rope.freq_base"));
        c.rope_freq_base = static_cast<float>(base);
    }
    std::string scaling = "none";
    if (gguf.find(p + "rope.scaling.type") != nullptr) {
        KASTEN_ASSIGN_OR_RETURN(scaling, gguf.get_string(p + "rope.scaling.type"));
    }
    if (scaling == "linear") {
        KASTEN_ASSIGN_OR_RETURN(double factor, gguf.get_float(p + "rope.scaling.factor"));
        if (!(factor > 0)) return Status::invalid_argument("rope.scaling.factor must be positive");
        c.rope_freq_scale = static_cast<float>(1.0 / factor);
    } else if (scaling != "none") {
        return Status::not_supported(fmt::format("rope scaling '{}' (supported: none, linear)", scaling));
    }
    KASTEN_RETURN_IF_ERROR(c.validate());
    return c;
}

}  // namespace kasten::llm
