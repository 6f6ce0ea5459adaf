#include "llm/tokenizer_factory.h"

#include <utility>

#include <fmt/format.h>

#include "llm/bpe_tokenizer.h"
#include "llm/spm_tokenizer.h"
#include "llm/wordpiece_tokenizer.h"

namespace kasten::llm {
namespace {

constexpr std::uint64_t kGgufNoId = 4294967295ULL;

// A present key of the wrong type is corruption; an absent key is fine (nullopt).
template <typename T>
Result<std::optional<T>> optional_key(Result<T> r) {
    if (r.is_ok()) return std::optional<T>(std::move(r).value());
    if (r.status().code() == StatusCode::kNotFound) return std::optional<T>();
    return Status::corruption(r.status().message());
}

Status read_id(const GgufReader& gguf, std::string_view key, std::size_t n_tokens, TokenId& id) {
    KASTEN_ASSIGN_OR_RETURN(const std::optional<std::uint64_t> v, optional_key(gguf.get_uint(key)));
    if (!v || *v == kGgufNoId || *v >= n_tokens) return Status::ok();
    id = static_cast<TokenId>(*v);
    return Status::ok();
}

Status read_flag(const GgufReader& gguf, std::string_view key, std::optional<bool>& flag) {
    KASTEN_ASSIGN_OR_RETURN(const std::optional<bool> v, optional_key(gguf.get_bool(key)));
    if (v) flag = *v;
    return Status::ok();
}

}  // namespace

Result<VocabData> read_gguf_vocab(const GgufReader& gguf) {
    VocabData data;
    KASTEN_ASSIGN_OR_RETURN(const std::optional<std::string> model,
                            optional_key(gguf.get_string("tokenizer.ggml.model")));
    if (!model) return Status::not_found(fmt::format("'{}' has no tokenizer (tokenizer.ggml.model)", gguf.path()));
    data.model = *model;
    KASTEN_ASSIGN_OR_RETURN(const std::optional<std::string> pre, optional_key(gguf.get_string("tokenizer.ggml.pre")));
    if (pre) data.pre = *pre;
    KASTEN_ASSIGN_OR_RETURN(std::optional<std::vector<std::string>> tokens,
                            optional_key(gguf.get_string_array("tokenizer.ggml.tokens")));
    if (!tokens) return Status::not_found(fmt::format("'{}' has no tokenizer.ggml.tokens", gguf.path()));
    data.tokens = std::move(*tokens);
    const std::size_t n = data.tokens.size();

    KASTEN_ASSIGN_OR_RETURN(std::optional<std::vector<float>> scores,
                            optional_key(gguf.get_float_array("tokenizer.ggml.scores")));
    if (scores) data.scores = std::move(*scores);
    KASTEN_ASSIGN_OR_RETURN(const std::optional<std::vector<std::int64_t>> types,
                            optional_key(gguf.get_int_array("tokenizer.ggml.token_type")));
    if (types) {
        data.token_types.reserve(types->size());
        for (std::int64_t t : *types) data.token_types.push_back(static_cast<std::int32_t>(t));
    }
    KASTEN_ASSIGN_OR_RETURN(std::optional<std::vector<std::string>> merges,
                            optional_key(gguf.get_string_array("tokenizer.ggml.merges")));
    if (merges) data.merges = std::move(*merges);
    if (!data.scores.empty() && data.scores.size() != n) {
        return Status::corruption(fmt::format("'{}': {} tokens but {} scores", gguf.path(), n, data.scores.size()));
    }
    if (!data.token_types.empty() && data.token_types.size() != n) {
        return Status::corruption(
            fmt::format("'{}': {} tokens but {} token types", gguf.path(), n, data.token_types.size()));
    }

    SpecialTokenIds& s = data.special;
    KASTEN_RETURN_IF_ERROR(read_id(gguf, "tokenizer.ggml.bos_token_id", n, s.bos));
    KASTEN_RETURN_IF_ERROR(read_id(gguf, "tokenizer.ggml.eos_token_id", n, s.eos));
    KASTEN_RETURN_IF_ERROR(read_id(gguf, "tokenizer.ggml.eot_token_id", n, s.eot));
    KASTEN_RETURN_IF_ERROR(read_id(gguf, "tokenizer.ggml.eom_token_id", n, s.eom));
    KASTEN_RETURN_IF_ERROR(read_id(gguf, "tokenizer.ggml.unknown_token_id", n, s.unk));
    KASTEN_RETURN_IF_ERROR(read_id(gguf, "tokenizer.ggml.padding_token_id", n, s.pad));
    KASTEN_RETURN_IF_ERROR(read_id(gguf, "tokenizer.ggml.seperator_token_id", n, s.sep));
    KASTEN_RETURN_IF_ERROR(read_id(gguf, "tokenizer.ggml.separator_token_id", n, s.sep));
    KASTEN_RETURN_IF_ERROR(read_id(gguf, "tokenizer.ggml.cls_token_id", n, s.cls));
    KASTEN_RETURN_IF_ERROR(read_id(gguf, "tokenizer.ggml.mask_token_id", n, s.mask));
    KASTEN_RETURN_IF_ERROR(read_flag(gguf, "tokenizer.ggml.add_bos_token", data.add_bos));
    KASTEN_RETURN_IF_ERROR(read_flag(gguf, "tokenizer.ggml.add_eos_token", data.add_eos));
    KASTEN_RETURN_IF_ERROR(read_flag(gguf, "tokenizer.ggml.add_space_prefix", data.add_space_prefix));

    KASTEN_ASSIGN_OR_RETURN(const std::optional<std::string> chat_template,
                            optional_key(gguf.get_string("tokenizer.chat_template")));
    if (chat_template) data.chat_template = *chat_template;
    return data;
}

VocabData vocab_from_llama2c(const Llama2cVocab& vocab) {
    VocabData data;
    data.model = "llama";
    data.tokens.reserve(vocab.pieces.size());
    data.token_types.reserve(vocab.pieces.size());
    for (std::size_t i = 0; i < vocab.pieces.size(); ++i) {
        const std::string& piece = vocab.pieces[i];
        std::string token;
        TokenType type = TokenType::kNormal;
        if (i == 0) {
            type = TokenType::kUnknown;
            token = piece;
        } else if (i == 1 || i == 2) {
            // llama2.c writes BOS / EOS as "\n<s>\n" / "\n</s>\n".
            type = TokenType::kControl;
            const std::size_t b = piece.find_first_not_of('\n');
            const std::size_t e = piece.find_last_not_of('\n');
            token = b == std::string::npos ? piece : piece.substr(b, e - b + 1);
        } else if (piece.size() == 6 && piece.starts_with("<0x") && piece.back() == '>') {
            type = TokenType::kByte;
            token = piece;
        } else {
            for (char c : piece) {
                if (c == ' ') {
                    token += "\xE2\x96\x81";
                } else {
                    token += c;
                }
            }
        }
        data.tokens.push_back(std::move(token));
        data.token_types.push_back(static_cast<std::int32_t>(type));
    }
    data.scores = vocab.scores;
    data.scores.resize(data.tokens.size(), 0.0f);
    data.special.unk = 0;
    data.special.bos = vocab.pieces.size() > 1 ? 1 : kNoToken;
    data.special.eos = vocab.pieces.size() > 2 ? 2 : kNoToken;
    data.add_bos = true;
    data.add_eos = false;
    data.add_space_prefix = true;
    return data;
}

Result<std::unique_ptr<Tokenizer>> make_tokenizer(VocabData data) {
    if (data.model == "llama") {
        KASTEN_ASSIGN_OR_RETURN(std::unique_ptr<SpmTokenizer> t, SpmTokenizer::create(std::move(data)));
        return std::unique_ptr<Tokenizer>(std::move(t));
    }
    if (data.model == "gpt2") {
        KASTEN_ASSIGN_OR_RETURN(std::unique_ptr<BpeTokenizer> t, BpeTokenizer::create(std::move(data)));
        return std::unique_ptr<Tokenizer>(std::move(t));
    }
    if (data.model == "bert") {
        KASTEN_ASSIGN_OR_RETURN(std::unique_ptr<WordPieceTokenizer> t, WordPieceTokenizer::create(std::move(data)));
        return std::unique_ptr<Tokenizer>(std::move(t));
    }
    return Status::not_supported(
        fmt::format("tokenizer model '{}' is not supported (supported: llama, gpt2, bert)", data.model));
}

Result<std::unique_ptr<Tokenizer>> load_gguf_tokenizer(const std::string& path) {
    KASTEN_ASSIGN_OR_RETURN(const GgufReader gguf, GgufReader::open(path));
    KASTEN_ASSIGN_OR_RETURN(VocabData data, read_gguf_vocab(gguf));
    return make_tokenizer(std::move(data));
}

}  // namespace kasten::llm
