#include "llm/llama2c_checkpoint.h"

#include <cstdint>
#include <cstring>

#include <fmt/format.h>

namespace kasten::llm {

Result<Llama2cCheckpoint> Llama2cCheckpoint::open(const std::string& path) {
    KASTEN_ASSIGN_OR_RETURN(MappedFile file, MappedFile::open(path));
    constexpr std::size_t kHeaderBytes = 7 * sizeof(std::int32_t);
    if (file.size() < kHeaderBytes) {
        return Status::corruption(fmt::format("llama2.c checkpoint '{}': {} bytes is too short", path, file.size()));
    }
    std::int32_t h[7];
    std::memcpy(h, file.data(), kHeaderBytes);
    const std::int64_t dim = h[0], hidden = h[1], n_layers = h[2], n_heads = h[3], n_kv_heads = h[4], seq_len = h[6];
    const bool tied = h[5] > 0;
    const std::int64_t vocab = h[5] < 0 ? -static_cast<std::int64_t>(h[5]) : h[5];
    auto bad = [&](std::string why) {
        return Status::corruption(fmt::format("llama2.c checkpoint '{}': {} (header {} {} {} {} {} {} {})", path, why,
                                              h[0], h[1], h[2], h[3], h[4], h[5], h[6]));
    };
    constexpr std::int64_t kMaxSize = 1 << 20;
    for (std::int64_t v : {dim, hidden, n_layers, n_heads, n_kv_heads, vocab, seq_len}) {
        if (v <= 0 || v > kMaxSize) return bad("header value out of range");
    }
    if (dim % n_heads != 0) return bad("dim is not a multiple of n_heads");
    if (n_heads % n_kv_heads != 0) return bad("n_heads is not a multiple of n_kv_heads");
    const std::int64_t head_size = dim / n_heads;
    if (head_size % 2 != 0) return bad("head size is odd");
    const std::int64_t kv_dim = head_size * n_kv_heads;

    Llama2cCheckpoint ckpt;
    ckpt.tied_ = tied;
    ModelConfig& c = ckpt.config_;
    c.architecture = ModelArchitecture::kLlama;
    c.n_vocab = static_cast<int>(vocab);
    c.n_embd = static_cast<int>(dim);
    c.n_layer = static_cast<int>(n_layers);
    c.n_head = static_cast<int>(n_heads);
    c.n_head_kv = static_cast<int>(n_kv_heads);
    c.head_dim = static_cast<int>(head_size);
    c.n_ff = static_cast<int>(hidden);
    c.n_rot = static_cast<int>(head_size);
    c.rope_style = RopeStyle::kNormal;
    c.rope_freq_base = 10000.0f;
    c.rms_eps = 1e-5f;
    c.train_context = static_cast<int>(seq_len);
    KASTEN_RETURN_IF_ERROR(c.validate());

    // Lay out every tensor (sizes in floats) and check the file size before creating any view.
    struct Slot {
        std::string name;
        std::vector<std::uint64_t> dims;  // ggml order
    };
    std::vector<Slot> slots;
    auto u = [](std::int64_t v) { return static_cast<std::uint64_t>(v); };
    slots.push_back({"token_embd.weight", {u(dim), u(vocab)}});
    auto per_layer = [&](const char* name, std::vector<std::uint64_t> dims) {
        for (std::int64_t l = 0; l < n_layers; ++l) slots.push_back({fmt::format("blk.{}.{}", l, name), dims});
    };
    per_layer("attn_norm.weight", {u(dim)});
    per_layer("attn_q.weight", {u(dim), u(dim)});
    per_layer("attn_k.weight", {u(dim), u(kv_dim)});
    per_layer("attn_v.weight", {u(dim), u(kv_dim)});
    per_layer("attn_output.weight", {u(dim), u(dim)});
    per_layer("ffn_norm.weight", {u(dim)});
    per_layer("ffn_gate.weight", {u(dim), u(hidden)});
    per_layer("ffn_down.weight", {u(hidden), u(dim)});
    per_layer("ffn_up.weight", {u(dim), u(hidden)});
    slots.push_back({"output_norm.weight", {u(dim)}});
    slots.push_back({"(freq_cis)", {u(head_size), u(seq_len)}});  // real and imag halves: 2 × seq_len × hs/2
    if (!tied) slots.push_back({"output.weight", {u(dim), u(vocab)}});

    std::uint64_t offset = kHeaderBytes;
    std::vector<std::uint64_t> offsets;
    for (const Slot& s : slots) {
        offsets.push_back(offset);
        std::uint64_t n = 1;
        for (std::uint64_t d : s.dims) n *= d;
        offset += n * sizeof(float);
    }
    if (offset != file.size()) {
        return bad(fmt::format("file has {} bytes, the header implies {}", file.size(), offset));
    }
    for (std::size_t i = 0; i < slots.size(); ++i) {
        if (slots[i].name == "(freq_cis)") continue;
        TensorView t;
        t.name = slots[i].name;
        t.type = TensorType::kF32;
        t.dims = slots[i].dims;
        t.data = file.data() + offsets[i];
        t.n_bytes = t.n_elements() * sizeof(float);
        ckpt.tensors_.push_back(std::move(t));
    }
    ckpt.file_ = std::move(file);  // the mapping's address is unchanged by the move
    return ckpt;
}

Result<Llama2cVocab> read_llama2c_vocab(const std::string& path, int vocab_size) {
    KASTEN_ASSIGN_OR_RETURN(MappedFile file, MappedFile::open(path));
    if (vocab_size <= 0) return Status::invalid_argument("vocab_size must be positive");
    const std::uint8_t* p = file.data();
    std::size_t left = file.size();
    auto take = [&](void* out, std::size_t n) {
        if (left < n) return false;
        std::memcpy(out, p, n);
        p += n;
        left -= n;
        return true;
    };
    auto truncated = [&](int i) {
        return Status::corruption(fmt::format("llama2.c tokenizer '{}' is truncated at token {}", path, i));
    };
    Llama2cVocab vocab;
    std::int32_t max_len = 0;
    if (!take(&max_len, sizeof(max_len))) return truncated(-1);
    if (max_len <= 0 || max_len > (1 << 16)) {
        return Status::corruption(fmt::format("llama2.c tokenizer '{}': max token length {}", path, max_len));
    }
    vocab.max_token_length = max_len;
    vocab.pieces.reserve(static_cast<std::size_t>(vocab_size));
    vocab.scores.reserve(static_cast<std::size_t>(vocab_size));
    for (int i = 0; i < vocab_size; ++i) {
        float score = 0;
        std::int32_t len = 0;
        if (!take(&score, sizeof(score)) || !take(&len, sizeof(len))) return truncated(i);
        if (len < 0 || len > max_len) {
            return Status::corruption(fmt::format("llama2.c tokenizer '{}': token {} has length {}", path, i, len));
        }
        if (left < static_cast<std::size_t>(len)) return truncated(i);
        vocab.pieces.emplace_back(reinterpret_cast<const char*>(p), static_cast<std::size_t>(len));
        p += len;
        left -= static_cast<std::size_t>(len);
        vocab.scores.push_back(score);
    }
    return vocab;
}

}  // namespace kasten::llm
