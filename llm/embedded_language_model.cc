#include "llm/embedded_language_model.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <limits>

#include <fmt/format.h>

#include "llm/crc32c.h"
#include "llm/json_logits_mask.h"
#include "llm/kv_snapshot.h"
#include "llm/mapped_file.h"
#include "llm/sampler.h"
#include "llm/tokenizer_factory.h"

namespace kasten::llm {
namespace {

// Length of the longest prefix of text[from..] that ends on a UTF-8 character boundary.
std::size_t complete_utf8_end(const std::string& text, std::size_t from) {
    std::size_t end = text.size();
    // Walk back over at most 3 continuation bytes to the last lead byte; keep it only if its sequence is whole.
    std::size_t i = end;
    int back = 0;
    while (i > from && back < 4) {
        --i;
        ++back;
        const auto c = static_cast<unsigned char>(text[i]);
        if ((c & 0xC0) == 0x80) continue;  // continuation byte
        std::size_t need = 1;
        if ((c & 0xE0) == 0xC0)
            need = 2;
        else if ((c & 0xF0) == 0xE0)
            need = 3;
        else if ((c & 0xF8) == 0xF0)
            need = 4;
        return end - i >= need ? end : i;
    }
    return end;
}

// Length of the longest suffix of text[from..] that is a proper prefix of some stop string.
std::size_t held_for_stop(const std::string& text, std::size_t from, const std::vector<std::string>& stops) {
    std::size_t held = 0;
    for (const std::string& s : stops) {
        for (std::size_t len = std::min(s.size() - 1, text.size() - from); len > held; --len) {
            if (text.compare(text.size() - len, len, s, 0, len) == 0) {
                held = len;
                break;
            }
        }
    }
    return held;
}

// The log-probability of `token` and the `top` most likely finite tokens under `logits` (natural log-softmax).
TokenLogprob token_logprob(std::span<const float> logits, int token, int top, const Tokenizer& tokenizer) {
    float max_logit = -std::numeric_limits<float>::infinity();
    for (float l : logits) {
        if (std::isfinite(l)) max_logit = std::max(max_logit, l);
    }
    double sum = 0.0;
    for (float l : logits) {
        if (std::isfinite(l)) sum += std::exp(static_cast<double>(l) - max_logit);
    }
    const double log_z = static_cast<double>(max_logit) + std::log(sum);
    TokenLogprob out;
    out.token = std::string(tokenizer.token_to_piece(token));
    out.logprob = static_cast<double>(logits[static_cast<std::size_t>(token)]) - log_z;
    if (top > 0) {
        std::vector<int> ids;
        ids.reserve(logits.size());
        for (std::size_t i = 0; i < logits.size(); ++i) {
            if (std::isfinite(logits[i])) ids.push_back(static_cast<int>(i));
        }
        const std::size_t k = std::min(ids.size(), static_cast<std::size_t>(top));
        auto more_likely = [&](int a, int b) {
            const float la = logits[static_cast<std::size_t>(a)], lb = logits[static_cast<std::size_t>(b)];
            return la > lb || (la == lb && a < b);
        };
        std::partial_sort(ids.begin(), ids.begin() + static_cast<std::ptrdiff_t>(k), ids.end(), more_likely);
        for (std::size_t i = 0; i < k; ++i) {
            out.top.push_back({std::string(tokenizer.token_to_piece(ids[i])),
                               static_cast<double>(logits[static_cast<std::size_t>(ids[i])]) - log_z});
        }
    }
    return out;
}

}  // namespace

Result<std::unique_ptr<EmbeddedLanguageModel>> EmbeddedLanguageModel::open(const EmbeddedModelOptions& options) {
    if (options.n_ctx < 2) return Status::invalid_argument("n_ctx must be at least 2");
    KASTEN_ASSIGN_OR_RETURN(std::shared_ptr<const LlamaModel> model, LlamaModel::open(options.model_path));
    std::unique_ptr<Tokenizer> tokenizer;
    std::string prefix;
    if (model->gguf() != nullptr) {
        KASTEN_ASSIGN_OR_RETURN(VocabData vocab, read_gguf_vocab(*model->gguf()));
        KASTEN_ASSIGN_OR_RETURN(tokenizer, make_tokenizer(std::move(vocab)));
        prefix = "gguf:";
    } else {
        if (options.tokenizer_path.empty()) {
            return Status::invalid_argument("a llama2.c checkpoint needs its tokenizer file (tokenizer_path)");
        }
        KASTEN_ASSIGN_OR_RETURN(Llama2cVocab vocab,
                                read_llama2c_vocab(options.tokenizer_path, model->config().n_vocab));
        KASTEN_ASSIGN_OR_RETURN(tokenizer, make_tokenizer(vocab_from_llama2c(vocab)));
        prefix = "llama2c:";
    }
    if (tokenizer->vocab_size() != model->config().n_vocab) {
        return Status::invalid_argument(
            fmt::format("tokenizer has {} tokens but the model {}", tokenizer->vocab_size(), model->config().n_vocab));
    }
    ChatTemplate chat_template = ChatTemplate::for_model(tokenizer->chat_template());
    if (!options.chat_template.empty()) {
        KASTEN_ASSIGN_OR_RETURN(chat_template, ChatTemplate::from_name(options.chat_template));
    }
    std::string id = prefix + std::filesystem::path(options.model_path).stem().string();
    KASTEN_ASSIGN_OR_RETURN(std::unique_ptr<KvCache> cache,
                            make_kv_cache(model->config(), options.n_ctx, options.kv_cache, model->isa()));
    return std::unique_ptr<EmbeddedLanguageModel>(new EmbeddedLanguageModel(
        std::move(id), std::move(model), std::move(tokenizer), chat_template, std::move(cache), options));
}

EmbeddedLanguageModel::EmbeddedLanguageModel(std::string id, std::shared_ptr<const LlamaModel> model,
                                             std::unique_ptr<Tokenizer> tokenizer, ChatTemplate chat_template,
                                             std::unique_ptr<KvCache> cache, const EmbeddedModelOptions& options)
    : id_(std::move(id)),
      model_path_(options.model_path),
      tokenizer_path_(options.tokenizer_path),
      model_(std::move(model)),
      tokenizer_(std::move(tokenizer)),
      template_(chat_template),
      pool_(options.n_threads),
      kv_tokens_(kv_tokens_that_fit(model_->config(), options.n_ctx, options.kv_cache)) {
    context_ = std::make_unique<LlamaContext>(model_, std::move(cache), &pool_, options.n_batch);
}

void EmbeddedLanguageModel::set_json_mask_factory(JsonMaskFactory factory) {
    std::lock_guard<std::mutex> lock(mutex_);
    json_mask_factory_ = std::move(factory);
    builtin_json_mask_ = false;
}

std::vector<TokenId> EmbeddedLanguageModel::chat_prompt(const std::vector<ChatMessage>& messages) const {
    const std::string text = template_.apply(messages, /*add_generation_prompt=*/true);
    std::vector<TokenId> prompt = tokenizer_->encode(text, {.add_special = false, .parse_special = true});
    const TokenId bos = tokenizer_->bos();
    if (tokenizer_->add_bos() && bos != kNoToken && (prompt.empty() || prompt.front() != bos)) {
        prompt.insert(prompt.begin(), bos);
    }
    return prompt;
}

std::vector<TokenId> EmbeddedLanguageModel::chat_prompt_prefix(const std::vector<ChatMessage>& messages,
                                                               std::string_view pinned) const {
    if (pinned.empty()) return {};
    const std::string text = template_.apply(messages, /*add_generation_prompt=*/true);
    const std::size_t at = text.find(pinned);
    if (at == std::string::npos) return {};
    std::vector<TokenId> head = tokenizer_->encode(std::string_view(text).substr(0, at + pinned.size()),
                                                   {.add_special = false, .parse_special = true});
    const TokenId bos = tokenizer_->bos();
    if (tokenizer_->add_bos() && bos != kNoToken && (head.empty() || head.front() != bos)) {
        head.insert(head.begin(), bos);
    }
    // The text's tokenisation may merge across the end of `pinned`: keep only what the whole prompt shares.
    const std::vector<TokenId> prompt = chat_prompt(messages);
    std::size_t n = 0;
    while (n < head.size() && n < prompt.size() && head[n] == prompt[n]) ++n;
    head.resize(n);
    return head;
}

Result<std::string> EmbeddedLanguageModel::prefix_model_id() {
    std::lock_guard<std::mutex> lock(mutex_);
    return prefix_model_id_locked();
}

Result<std::string> EmbeddedLanguageModel::prefix_model_id_locked() {
    if (!file_identity_) {
        std::string identity;
        for (const std::string& path : {model_path_, tokenizer_path_}) {
            if (path.empty()) continue;
            KASTEN_ASSIGN_OR_RETURN(MappedFile file, MappedFile::open(path));
            identity +=
                fmt::format("{}{}:{:08x}", identity.empty() ? "" : "+", file.size(), crc32c(file.data(), file.size()));
        }
        file_identity_ = std::move(identity);
    }
    return fmt::format("{}@{}/{}", id_, *file_identity_, context_->cache().name());
}

Result<std::string> EmbeddedLanguageModel::save_prefix(std::span<const TokenId> tokens) {
    std::lock_guard<std::mutex> lock(mutex_);
    LlamaContext& ctx = *context_;
    if (tokens.empty()) return Status::invalid_argument("the prefix has no tokens");
    if (static_cast<int>(tokens.size()) >= ctx.n_ctx()) {
        return Status::resource_exhausted(
            fmt::format("the prefix has {} tokens; the context holds {}", tokens.size(), ctx.n_ctx()));
    }
    std::size_t common = 0;
    while (common < cached_.size() && common < tokens.size() && cached_[common] == tokens[common]) ++common;
    ctx.truncate(static_cast<int>(common));
    cached_.resize(common);
    if (common < tokens.size()) {
        Status s = ctx.eval(tokens.subspan(common));
        if (!s.is_ok()) {
            ctx.truncate(0);
            cached_.clear();
            return s;
        }
    }
    cached_.assign(tokens.begin(), tokens.end());
    KASTEN_ASSIGN_OR_RETURN(std::string model_id, prefix_model_id_locked());
    return encode_kv_snapshot(ctx.cache(), model_id, tokens);
}

Status EmbeddedLanguageModel::load_prefix(std::string_view snapshot) {
    std::lock_guard<std::mutex> lock(mutex_);
    KASTEN_ASSIGN_OR_RETURN(std::string model_id, prefix_model_id_locked());
    KASTEN_ASSIGN_OR_RETURN(KvSnapshot decoded, decode_kv_snapshot(snapshot));
    for (TokenId t : decoded.tokens) {
        if (t < 0 || t >= model_->config().n_vocab) return Status::corruption("KV snapshot holds an unknown token id");
    }
    Status s = restore_kv_snapshot(decoded, model_id, context_->cache());
    if (!s.is_ok()) {
        context_->truncate(0);
        cached_.clear();
        return s;
    }
    cached_ = std::move(decoded.tokens);
    return Status::ok();
}

std::size_t EmbeddedLanguageModel::cached_prefix_length(std::span<const TokenId> tokens) {
    std::lock_guard<std::mutex> lock(mutex_);
    std::size_t n = 0;
    while (n < cached_.size() && n < tokens.size() && cached_[n] == tokens[n]) ++n;
    return n;
}

Result<Generation> EmbeddedLanguageModel::chat(const std::vector<ChatMessage>& messages,
                                               const GenerationOptions& options, const TokenCallback& on_token) {
    return generate(chat_prompt(messages), options, on_token);
}

Result<Generation> EmbeddedLanguageModel::complete(std::string_view prompt, const GenerationOptions& options,
                                                   const TokenCallback& on_token) {
    return generate(tokenizer_->encode(prompt, {.add_special = true, .parse_special = false}), options, on_token);
}

Result<Generation> EmbeddedLanguageModel::generate(const std::vector<TokenId>& prompt, const GenerationOptions& options,
                                                   const TokenCallback& on_token) {
    std::lock_guard<std::mutex> lock(mutex_);
    return generate_locked(prompt, options, on_token);
}

Result<Generation> EmbeddedLanguageModel::generate_locked(const std::vector<TokenId>& prompt,
                                                          const GenerationOptions& options,
                                                          const TokenCallback& on_token) {
    LlamaContext& ctx = *context_;
    if (prompt.empty()) return Status::invalid_argument("the prompt has no tokens");
    if (static_cast<int>(prompt.size()) >= ctx.n_ctx()) {
        return Status::resource_exhausted(
            fmt::format("the prompt has {} tokens; the context holds {}", prompt.size(), ctx.n_ctx()));
    }
    for (const auto& [id, bias] : options.logit_bias) {
        if (id < 0 || id >= model_->config().n_vocab) {
            return Status::invalid_argument(fmt::format("logit_bias names token {}; the vocabulary has ids 0..{}", id,
                                                        model_->config().n_vocab - 1));
        }
        if (!std::isfinite(bias)) return Status::invalid_argument("logit_bias values must be finite");
    }
    if (options.top_logprobs < 0) return Status::invalid_argument("top_logprobs must not be negative");
    // At most the reply length that fits beside the prompt (>= 1: the prompt is shorter than the context).
    const int max_tokens = options.fit_context
                               ? std::min(options.max_tokens, ctx.n_ctx() - static_cast<int>(prompt.size()))
                               : options.max_tokens;
    std::unique_ptr<LogitsMask> mask;
    if (options.json_schema && builtin_json_mask_) {
        KASTEN_ASSIGN_OR_RETURN(mask, JsonLogitsMask::create(*options.json_schema, *tokenizer_, max_tokens));
    } else if (options.json_schema) {
        if (!json_mask_factory_) {
            return Status::not_supported("constrained JSON decoding is not available in this build of the model");
        }
        KASTEN_ASSIGN_OR_RETURN(mask, json_mask_factory_(*options.json_schema, *tokenizer_));
    }

    // Reuse the cached prefix; at least the last prompt token is evaluated again for its logits.
    std::size_t common = 0;
    while (common < cached_.size() && common < prompt.size() && cached_[common] == prompt[common]) ++common;
    common = std::min(common, prompt.size() - 1);
    ctx.truncate(static_cast<int>(common));
    cached_.resize(common);
    Status s = ctx.eval(std::span<const TokenId>(prompt.data() + common, prompt.size() - common));
    if (!s.is_ok()) {
        ctx.truncate(0);
        cached_.clear();
        return s;
    }
    cached_ = prompt;

    SamplerOptions so;
    so.temperature = static_cast<float>(options.temperature);
    so.top_k = options.top_k;
    so.top_p = static_cast<float>(options.top_p);
    so.min_p = static_cast<float>(options.min_p);
    so.repeat_penalty = static_cast<float>(options.repeat_penalty);
    so.seed = options.seed;
    so.frequency_penalty = static_cast<float>(options.frequency_penalty);
    so.presence_penalty = static_cast<float>(options.presence_penalty);
    for (const auto& [id, bias] : options.logit_bias) so.logit_bias.emplace_back(id, static_cast<float>(bias));
    Sampler sampler(so);
    sampler.set_mask(mask.get());
    for (TokenId t : prompt) sampler.accept(t);

    Generation g;
    g.prompt_tokens = static_cast<int>(prompt.size());
    g.cached_prompt_tokens = static_cast<int>(common);
    g.finish_reason = "length";
    std::string& text = g.text;
    std::size_t emitted = 0;           // bytes of text already handed to on_token
    std::size_t logprobs_emitted = 0;  // entries of g.logprobs already handed to on_token
    // Hands text[emitted, end) to on_token with the log-probabilities of the tokens that start in it.
    auto emit_up_to = [&](std::size_t end) {
        if (end <= emitted) return true;
        std::size_t lp_end = logprobs_emitted;
        while (lp_end < g.logprobs.size() && g.logprobs[lp_end].text_offset < end) ++lp_end;
        const bool go_on =
            !on_token ||
            on_token(std::string_view(text).substr(emitted, end - emitted),
                     std::span<const TokenLogprob>(g.logprobs).subspan(logprobs_emitted, lp_end - logprobs_emitted));
        emitted = end;
        logprobs_emitted = lp_end;
        return go_on;
    };
    bool cancelled = false;
    const int n_keep_prompt = static_cast<int>(prompt.size()) <= ctx.n_ctx() / 2 ? static_cast<int>(prompt.size()) : 1;

    for (int n = 0; n < max_tokens; ++n) {
        KASTEN_ASSIGN_OR_RETURN(const int token, sampler.sample(ctx.logits()));
        if (tokenizer_->is_end_of_generation(token)) {
            g.finish_reason = "stop";
            break;
        }
        g.completion_tokens++;
        const std::size_t before = text.size();
        if (options.logprobs) {
            g.logprobs.push_back(token_logprob(sampler.adjusted_logits(), token, options.top_logprobs, *tokenizer_));
            g.logprobs.back().text_offset = before;
        }
        text += tokenizer_->token_to_piece(token);
        // Stop strings: search only where a match could end in the new bytes.
        std::size_t cut = std::string::npos;
        for (const std::string& stop : options.stop) {
            if (stop.empty()) continue;
            const std::size_t from = before >= stop.size() ? before - stop.size() + 1 : 0;
            const std::size_t at = text.find(stop, std::max(from, emitted));
            if (at != std::string::npos) cut = std::min(cut, at);
        }
        if (cut != std::string::npos) {
            text.resize(cut);
            while (!g.logprobs.empty() && g.logprobs.back().text_offset >= cut) g.logprobs.pop_back();
            emit_up_to(text.size());
            g.finish_reason = "stop";
            break;
        }
        const std::size_t safe =
            std::min(complete_utf8_end(text, emitted), text.size() - held_for_stop(text, emitted, options.stop));
        if (!emit_up_to(safe)) {
            g.finish_reason = "stop";
            cancelled = true;
            break;
        }
        if (n + 1 == max_tokens) break;  // the last token needs no forward pass
        if (ctx.n_past() >= ctx.n_ctx()) {
            const int dropped = ctx.shift(n_keep_prompt);
            // Cells after the dropped range were computed with it in context: only the kept prefix stays reusable.
            cached_.resize(static_cast<std::size_t>(std::min<int>(n_keep_prompt, static_cast<int>(cached_.size()))));
            if (dropped == 0) return Status::internal("context shift freed no cells");
        }
        s = ctx.eval(std::span<const int>(&token, 1));
        if (!s.is_ok()) return s;
        if (cached_.size() == static_cast<std::size_t>(ctx.n_past() - 1)) cached_.push_back(token);
    }
    if (!cancelled) emit_up_to(text.size());  // text held back for a stop string that never completed
    return g;
}

}  // namespace kasten::llm
