#include "llm/llama_model.h"

#include <algorithm>
#include <cstring>
#include <map>

#include <fmt/format.h>

#include "llm/gguf_reader.h"
#include "llm/llama2c_checkpoint.h"
#include "llm/quantization.h"

namespace kasten::llm {
namespace {

Status shape_error(const std::string& name, std::string_view what) {
    return Status::invalid_argument(fmt::format("tensor '{}': {}", name, what));
}

// A 1-D tensor of `n` values as floats (norms, biases, rope factors are small; any dequantizable type).
Result<std::vector<float>> load_vector(const TensorView* t, const std::string& name, std::size_t n) {
    if (t == nullptr) return Status::not_found(fmt::format("tensor '{}' is missing", name));
    if (t->n_elements() != n) {
        return shape_error(name, fmt::format("has {} values, expected {}", t->n_elements(), n));
    }
    if (!can_dequantize(t->type) || n % tensor_type_traits(t->type).block_size != 0) {
        return Status::not_supported(fmt::format("tensor '{}' has type {}", name, tensor_type_name(t->type)));
    }
    std::vector<float> v(n);
    dequantize_row(t->type, t->data, n, v.data());
    return v;
}

}  // namespace

Result<std::shared_ptr<const LlamaModel>> LlamaModel::open(const std::string& path, KernelIsa isa) {
    KASTEN_ASSIGN_OR_RETURN(MappedFile probe, MappedFile::open(path));
    std::uint32_t magic = 0;
    if (probe.size() >= 4) std::memcpy(&magic, probe.data(), 4);
    if (magic == kGgufMagic) {
        KASTEN_ASSIGN_OR_RETURN(GgufReader gguf, GgufReader::open(path));
        return from_gguf(std::make_shared<const GgufReader>(std::move(gguf)), isa);
    }
    KASTEN_ASSIGN_OR_RETURN(Llama2cCheckpoint ckpt, Llama2cCheckpoint::open(path));
    return from_llama2c(std::make_shared<const Llama2cCheckpoint>(std::move(ckpt)), isa);
}

Result<std::shared_ptr<const LlamaModel>> LlamaModel::from_gguf(std::shared_ptr<const GgufReader> gguf, KernelIsa isa) {
    KASTEN_ASSIGN_OR_RETURN(ModelConfig config, model_config_from_gguf(*gguf));
    std::vector<float> rope_factors;
    if (const TensorView* f = gguf->find_tensor("rope_freqs.weight")) {
        KASTEN_ASSIGN_OR_RETURN(rope_factors,
                                load_vector(f, "rope_freqs.weight", static_cast<std::size_t>(config.n_rot / 2)));
    }
    std::shared_ptr<LlamaModel> model(new LlamaModel(config, isa, std::move(rope_factors)));
    model->gguf_ = gguf;
    const GgufReader* g = gguf.get();
    Status s = bind(*model, [g](const std::string& name) { return g->find_tensor(name); });
    if (!s.is_ok()) return s.with_context(fmt::format("model '{}'", gguf->path()));
    return std::shared_ptr<const LlamaModel>(std::move(model));
}

Result<std::shared_ptr<const LlamaModel>> LlamaModel::from_llama2c(std::shared_ptr<const Llama2cCheckpoint> ckpt,
                                                                   KernelIsa isa) {
    std::shared_ptr<LlamaModel> model(new LlamaModel(ckpt->config(), isa, {}));
    model->llama2c_ = ckpt;
    const Llama2cCheckpoint* c = ckpt.get();
    KASTEN_RETURN_IF_ERROR(bind(*model, [c](const std::string& name) -> const TensorView* {
        for (const TensorView& t : c->tensors()) {
            if (t.name == name) return &t;
        }
        return nullptr;
    }));
    return std::shared_ptr<const LlamaModel>(std::move(model));
}

Status LlamaModel::bind(LlamaModel& m, const TensorLookup& lookup) {
    ModelConfig& c = m.config_;
    std::uint64_t bytes = 0;
    std::uint64_t per_token = 0;
    auto matrix = [&](const std::string& name, int cols, int rows, WeightMatrix* out) -> Status {
        const TensorView* t = lookup(name);
        if (t == nullptr) return Status::not_found(fmt::format("tensor '{}' is missing", name));
        KASTEN_ASSIGN_OR_RETURN(*out, WeightMatrix::from_tensor(*t, m.isa_));
        if (out->cols() != cols || (rows >= 0 && out->rows() != rows)) {
            return shape_error(
                name, fmt::format("is {}×{} (cols×rows), expected {}×{}", out->cols(), out->rows(), cols, rows));
        }
        bytes += t->n_bytes;
        per_token += t->n_bytes;
        return Status::ok();
    };
    auto vec = [&](const std::string& name, int n, std::vector<float>* out, bool optional) -> Status {
        const TensorView* t = lookup(name);
        if (t == nullptr && optional) return Status::ok();
        KASTEN_ASSIGN_OR_RETURN(*out, load_vector(t, name, static_cast<std::size_t>(n)));
        bytes += t->n_bytes;
        per_token += t->n_bytes;
        return Status::ok();
    };

    KASTEN_RETURN_IF_ERROR(matrix("token_embd.weight", c.n_embd, -1, &m.token_embd_));
    per_token -= m.token_embd_.bytes();  // a decode step reads one embedding row...
    per_token += m.token_embd_.bytes() / static_cast<std::uint64_t>(m.token_embd_.rows());
    if (c.n_vocab != 0 && c.n_vocab != m.token_embd_.rows()) {
        return shape_error("token_embd.weight", fmt::format("has {} rows but the vocabulary has {} tokens",
                                                            m.token_embd_.rows(), c.n_vocab));
    }
    c.n_vocab = m.token_embd_.rows();
    KASTEN_RETURN_IF_ERROR(vec("output_norm.weight", c.n_embd, &m.output_norm_, false));
    if (lookup("output.weight") != nullptr) {
        KASTEN_RETURN_IF_ERROR(matrix("output.weight", c.n_embd, c.n_vocab, &m.output_));
        m.tied_ = false;
        m.token_embd_ = m.token_embd_.without_repacked();  // only looked up by row: the copy would be unused
    } else {
        m.output_ = m.token_embd_;
        m.tied_ = true;
        per_token += m.output_.bytes();  // ...unless the tied table is also the classifier
    }
    const int q_dim = c.n_head * c.head_dim;
    const int kv_dim = c.n_head_kv * c.head_dim;
    m.layers_.resize(static_cast<std::size_t>(c.n_layer));
    for (int l = 0; l < c.n_layer; ++l) {
        LayerWeights& w = m.layers_[static_cast<std::size_t>(l)];
        const std::string p = fmt::format("blk.{}.", l);
        KASTEN_RETURN_IF_ERROR(vec(p + "attn_norm.weight", c.n_embd, &w.attn_norm, false));
        KASTEN_RETURN_IF_ERROR(matrix(p + "attn_q.weight", c.n_embd, q_dim, &w.wq));
        KASTEN_RETURN_IF_ERROR(matrix(p + "attn_k.weight", c.n_embd, kv_dim, &w.wk));
        KASTEN_RETURN_IF_ERROR(matrix(p + "attn_v.weight", c.n_embd, kv_dim, &w.wv));
        KASTEN_RETURN_IF_ERROR(vec(p + "attn_q.bias", q_dim, &w.bq, true));
        KASTEN_RETURN_IF_ERROR(vec(p + "attn_k.bias", kv_dim, &w.bk, true));
        KASTEN_RETURN_IF_ERROR(vec(p + "attn_v.bias", kv_dim, &w.bv, true));
        KASTEN_RETURN_IF_ERROR(matrix(p + "attn_output.weight", q_dim, c.n_embd, &w.wo));
        KASTEN_RETURN_IF_ERROR(vec(p + "ffn_norm.weight", c.n_embd, &w.ffn_norm, false));
        KASTEN_RETURN_IF_ERROR(matrix(p + "ffn_gate.weight", c.n_embd, c.n_ff, &w.gate));
        KASTEN_RETURN_IF_ERROR(matrix(p + "ffn_up.weight", c.n_embd, c.n_ff, &w.up));
        KASTEN_RETURN_IF_ERROR(matrix(p + "ffn_down.weight", c.n_ff, c.n_embd, &w.down));
    }
    m.weight_bytes_ = bytes;
    m.bytes_per_token_ = per_token;
    return Status::ok();
}

std::string LlamaModel::weight_types() const {
    std::map<std::string, int> counts;
    auto add = [&](const WeightMatrix& w) { counts[std::string(tensor_type_name(w.type()))]++; };
    add(token_embd_);
    if (!tied_) add(output_);
    for (const LayerWeights& l : layers_) {
        for (const WeightMatrix* w : {&l.wq, &l.wk, &l.wv, &l.wo, &l.gate, &l.up, &l.down}) add(*w);
    }
    std::vector<std::pair<int, std::string>> sorted;
    for (const auto& [name, n] : counts) sorted.emplace_back(n, name);
    std::sort(sorted.rbegin(), sorted.rend());
    std::string out;
    for (const auto& [n, name] : sorted) out += fmt::format("{}{} ×{}", out.empty() ? "" : ", ", name, n);
    return out;
}

}  // namespace kasten::llm
