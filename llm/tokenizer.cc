#include "llm/tokenizer.h"

#include <algorithm>
#include <utility>

#include <fmt/format.h>

#include "common/log.h"

namespace kasten::llm {
namespace {

// Texts of end-of-turn / end-of-text markers that end a generation whatever the vocabulary's type array says
// (the same list llama.cpp uses; converters do not always mark them as control tokens).
constexpr std::string_view kEndOfGenerationTexts[] = {
    "<|eot_id|>", "<|im_end|>",      "<|end|>", "<end_of_turn>",      "<|endoftext|>",
    "<|eom_id|>", "<|end_of_text|>", "<EOT>",   "<end_of_utterance>",
};

bool is_markup_type(TokenType t) {
    return t == TokenType::kControl || t == TokenType::kUnknown || t == TokenType::kUnused;
}

}  // namespace

Status Tokenizer::validate(const VocabData& data) {
    if (data.tokens.empty()) return Status::invalid_argument("vocabulary has no tokens");
    if (data.tokens.size() > static_cast<std::size_t>(INT32_MAX)) {
        return Status::invalid_argument(fmt::format("vocabulary of {} tokens is too large", data.tokens.size()));
    }
    if (!data.scores.empty() && data.scores.size() != data.tokens.size()) {
        return Status::corruption(
            fmt::format("vocabulary has {} tokens but {} scores", data.tokens.size(), data.scores.size()));
    }
    if (!data.token_types.empty() && data.token_types.size() != data.tokens.size()) {
        return Status::corruption(
            fmt::format("vocabulary has {} tokens but {} token types", data.tokens.size(), data.token_types.size()));
    }
    return Status::ok();
}

Tokenizer::Tokenizer(VocabData data, std::vector<TokenId> prefix, std::vector<TokenId> suffix)
    : tokens_(std::move(data.tokens)),
      scores_(std::move(data.scores)),
      special_(data.special),
      add_bos_(data.add_bos.value_or(false)),
      add_eos_(data.add_eos.value_or(false)),
      prefix_(std::move(prefix)),
      suffix_(std::move(suffix)),
      chat_template_(std::move(data.chat_template)) {
    const std::size_t n = tokens_.size();
    if (scores_.empty()) scores_.assign(n, 0.0f);
    types_.assign(n, TokenType::kNormal);
    for (std::size_t i = 0; i < data.token_types.size(); ++i) {
        const std::int32_t t = data.token_types[i];
        types_[i] = (t >= 0 && t <= static_cast<std::int32_t>(TokenType::kByte)) ? static_cast<TokenType>(t)
                                                                                 : TokenType::kUndefined;
    }

    index_.reserve(n);
    std::size_t duplicates = 0;
    for (std::size_t i = 0; i < n; ++i) {
        if (tokens_[i].empty()) tokens_[i] = fmt::format("[EMPTY_{}]", i);
    }
    for (std::size_t i = 0; i < n; ++i) {
        if (!index_.emplace(tokens_[i], static_cast<TokenId>(i)).second) ++duplicates;
    }
    if (duplicates > 0)
        log::warn("tokenizer: {} duplicate tokens in the vocabulary; the first id of each is used", duplicates);

    // End-of-generation markers are markup whatever the type array says.
    for (std::string_view text : kEndOfGenerationTexts) {
        auto it = index_.find(text);
        if (it == index_.end()) continue;
        if (types_[it->second] != TokenType::kControl) types_[it->second] = TokenType::kControl;
        eog_ids_.push_back(it->second);
    }
    auto valid_or_none = [&](TokenId& id) {
        if (id != kNoToken && !is_valid(id)) {
            log::warn("tokenizer: special token id {} is outside the vocabulary of {}; ignored", id, n);
            id = kNoToken;
        }
    };
    for (TokenId* id : {&special_.bos, &special_.eos, &special_.eot, &special_.eom, &special_.unk, &special_.pad,
                        &special_.sep, &special_.cls, &special_.mask}) {
        valid_or_none(*id);
    }
    if (special_.eot == kNoToken) {
        for (std::string_view text : {"<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<EOT>"}) {
            if (auto it = index_.find(text); it != index_.end()) {
                special_.eot = it->second;
                break;
            }
        }
    }
    for (TokenId id : {special_.eos, special_.eot, special_.eom}) {
        if (id != kNoToken) eog_ids_.push_back(id);
    }
    std::sort(eog_ids_.begin(), eog_ids_.end());
    eog_ids_.erase(std::unique(eog_ids_.begin(), eog_ids_.end()), eog_ids_.end());
    std::erase_if(prefix_, [&](TokenId id) { return !is_valid(id); });
    std::erase_if(suffix_, [&](TokenId id) { return !is_valid(id); });

    for (std::size_t i = 0; i < n; ++i) {
        const TokenType t = types_[i];
        if (t == TokenType::kControl || t == TokenType::kUnknown || t == TokenType::kUserDefined) {
            special_by_first_byte_[static_cast<unsigned char>(tokens_[i][0])].push_back(static_cast<TokenId>(i));
        }
    }
    for (auto& bucket : special_by_first_byte_) {
        std::stable_sort(bucket.begin(), bucket.end(),
                         [&](TokenId a, TokenId b) { return tokens_[a].size() > tokens_[b].size(); });
    }
}

void Tokenizer::build_pieces() {
    pieces_.resize(tokens_.size());
    for (std::size_t i = 0; i < tokens_.size(); ++i) {
        const TokenType t = types_[i];
        pieces_[i] =
            (is_markup_type(t) || t == TokenType::kUserDefined) ? tokens_[i] : normal_piece(static_cast<TokenId>(i));
    }
}

std::optional<std::uint8_t> Tokenizer::parse_byte_token(std::string_view text) {
    if (text.size() != 6 || text.substr(0, 3) != "<0x" || text[5] != '>') return std::nullopt;
    auto hex = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        return -1;
    };
    const int hi = hex(text[3]);
    const int lo = hex(text[4]);
    if (hi < 0 || lo < 0) return std::nullopt;
    return static_cast<std::uint8_t>(hi * 16 + lo);
}

std::pair<TokenId, std::size_t> Tokenizer::match_special(std::string_view text, std::size_t pos,
                                                         bool parse_special) const {
    const auto& bucket = special_by_first_byte_[static_cast<unsigned char>(text[pos])];
    for (TokenId id : bucket) {
        if (!parse_special && types_[id] != TokenType::kUserDefined) continue;
        const std::string& t = tokens_[id];
        if (text.size() - pos >= t.size() && text.compare(pos, t.size(), t) == 0) return {id, t.size()};
    }
    return {kNoToken, 0};
}

std::vector<TokenId> Tokenizer::encode(std::string_view text, const EncodeOptions& options) const {
    const TextSegment segment{text, options.parse_special};
    return encode(std::span<const TextSegment>(&segment, 1), options.add_special);
}

std::vector<TokenId> Tokenizer::encode(std::span<const TextSegment> segments, bool add_special) const {
    std::size_t total = 0;
    for (const TextSegment& s : segments) total += s.text.size();
    std::vector<TokenId> out;
    out.reserve(total / 3 + prefix_.size() + suffix_.size() + 1);
    if (add_special) out.insert(out.end(), prefix_.begin(), prefix_.end());
    bool after_special = true;
    std::string pending;  // text since the last special token, possibly spanning segments
    auto flush = [&] {
        if (pending.empty()) return;
        encode_fragment(pending, after_special, out);
        after_special = false;
        pending.clear();
    };
    for (const TextSegment& segment : segments) {
        const std::string_view text = segment.text;
        std::size_t start = 0;
        std::size_t pos = 0;
        while (pos < text.size()) {
            const auto [id, length] = match_special(text, pos, segment.parse_special);
            if (id == kNoToken) {
                ++pos;
                continue;
            }
            pending.append(text, start, pos - start);
            flush();
            out.push_back(id);
            after_special = true;
            pos += length;
            start = pos;
        }
        pending.append(text, start);
    }
    flush();
    if (add_special) out.insert(out.end(), suffix_.begin(), suffix_.end());
    return out;
}

std::string Tokenizer::decode(std::span<const TokenId> ids, const DecodeOptions& options) const {
    std::string out;
    const bool strips = options.strip_leading_space && adds_leading_space();
    bool strip_next = strips;
    for (TokenId id : ids) {
        if (!is_valid(id)) continue;
        const TokenType t = types_[id];
        if (is_markup_type(t) || t == TokenType::kUserDefined) {
            if (options.render_special || t == TokenType::kUserDefined) out += tokens_[id];
            strip_next = strips;
            continue;
        }
        const std::string& piece = pieces_[id];
        if (piece.empty()) continue;
        if (strip_next && piece[0] == ' ') {
            out.append(piece, 1);
        } else {
            out += piece;
        }
        strip_next = false;
    }
    return out;
}

std::string_view Tokenizer::token_to_piece(TokenId id, bool render_special) const {
    if (!is_valid(id)) return {};
    if (is_markup_type(types_[id]) && !render_special) return {};
    return pieces_[id];
}

const std::string& Tokenizer::token_text(TokenId id) const {
    static const std::string kEmpty;
    return is_valid(id) ? tokens_[id] : kEmpty;
}

TokenType Tokenizer::token_type(TokenId id) const {
    return is_valid(id) ? types_[id] : TokenType::kUndefined;
}

float Tokenizer::token_score(TokenId id) const {
    return is_valid(id) ? scores_[id] : 0.0f;
}

std::optional<TokenId> Tokenizer::find_token(std::string_view text) const {
    auto it = index_.find(text);
    if (it == index_.end()) return std::nullopt;
    return it->second;
}

bool Tokenizer::is_control(TokenId id) const {
    return is_valid(id) && is_markup_type(types_[id]);
}

bool Tokenizer::is_end_of_generation(TokenId id) const {
    return std::binary_search(eog_ids_.begin(), eog_ids_.end(), id);
}

}  // namespace kasten::llm
