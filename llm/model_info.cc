#include "llm/model_info.h"

#include <fmt/format.h>

#include "llm/chat_template.h"
#include "llm/gguf_reader.h"
#include "llm/llama_model.h"
#include "llm/tokenizer_factory.h"

namespace kasten::llm {

std::string ModelInfo::to_text() const {
    const ModelConfig& c = config;
    std::string out;
    out += fmt::format("file:          {}\n", path);
    out += fmt::format("format:        {}\n", format);
    out += fmt::format("architecture:  {}\n", architecture_name(c.architecture));
    out += fmt::format("shape:         {} layers, width {}, {} heads ({} KV, head dim {}), FFN {}, vocab {}\n",
                       c.n_layer, c.n_embd, c.n_head, c.n_head_kv, c.head_dim, c.n_ff, c.n_vocab);
    out += fmt::format("rope:          {} over {} dims, base {}, scale {}\n",
                       c.rope_style == RopeStyle::kNormal ? "normal" : "NeoX", c.n_rot, c.rope_freq_base,
                       c.rope_freq_scale);
    out += fmt::format("rms epsilon:   {}\n", c.rms_eps);
    out += fmt::format("train context: {}\n", c.train_context);
    out += fmt::format("output:        {}\n", tied_output ? "tied to token_embd" : "separate output.weight");
    out += fmt::format("tensors:       {} ({:.1f} MB); matrices {}\n", tensor_count, weight_bytes / 1e6, weight_types);
    out += fmt::format("read / token:  {:.1f} MB of weights\n", bytes_read_per_token / 1e6);
    out += fmt::format("tokenizer:     {}\n", tokenizer.empty() ? "none" : tokenizer);
    out += fmt::format("chat template: {}\n", chat_template);
    return out;
}

Result<ModelInfo> read_model_info(const std::string& path) {
    KASTEN_ASSIGN_OR_RETURN(std::shared_ptr<const LlamaModel> model, LlamaModel::open(path));
    ModelInfo info;
    info.path = path;
    info.config = model->config();
    info.tied_output = model->tied_output();
    info.weight_types = model->weight_types();
    info.weight_bytes = model->weight_bytes();
    info.bytes_read_per_token = model->bytes_read_per_token();
    info.chat_template = "none";
    if (const GgufReader* g = model->gguf()) {
        info.format = fmt::format("GGUF v{}", g->version());
        info.tensor_count = static_cast<int>(g->tensors().size());
        Result<VocabData> vocab = read_gguf_vocab(*g);
        if (vocab.is_ok()) {
            const std::string kind = vocab->model == "llama"  ? "SentencePiece BPE"
                                     : vocab->model == "gpt2" ? "byte-level BPE"
                                     : vocab->model == "bert" ? "WordPiece"
                                                              : "unknown";
            info.tokenizer = fmt::format("{} ({}{}), {} tokens", vocab->model, kind,
                                         vocab->pre.empty() ? "" : ", pre " + vocab->pre, vocab->tokens.size());
            if (vocab->special.bos != kNoToken) info.tokenizer += fmt::format(", bos {}", vocab->special.bos);
            if (vocab->special.eos != kNoToken) info.tokenizer += fmt::format(", eos {}", vocab->special.eos);
            if (std::optional<ChatTemplateFormat> f = ChatTemplate::detect(vocab->chat_template)) {
                info.chat_template = std::string(ChatTemplate(*f).name());
            } else if (!vocab->chat_template.empty()) {
                info.chat_template = "unrecognised (ChatML is used)";
            }
        } else if (vocab.status().code() != StatusCode::kNotFound) {
            return vocab.status();
        }
    } else {
        info.format = "llama2.c";
        info.tensor_count = 0;
    }
    return info;
}

}  // namespace kasten::llm
