#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <unordered_map>

#include "common/result.h"
#include "llm/gpt2_pretokenizer.h"
#include "llm/tokenizer.h"

namespace kasten::llm {

// GPT-2 byte-level BPE ("gpt2" vocabularies: GPT-2, StarCoder, SmolLM2, Qwen2, Llama 3), as llama.cpp runs it:
// the text is split by the `pre` regex (Gpt2PreTokenizer); each piece's bytes become GPT-2 "byte-to-unicode"
// characters (space → "Ġ", newline → "Ċ"), which are the starting symbols; the adjacent pair with the lowest
// merge rank (its index in `merges`) is merged repeatedly (ties: leftmost), via a priority queue over a linked
// list. Llama 3 style vocabularies ("ignore merges") take a whole piece that is itself a token directly.
// Decoding maps the characters back to bytes, so decode(encode(x)) == x for any input.
class BpeTokenizer final : public Tokenizer {
  public:
    // Needs `merges` (kInvalidArgument when missing) and a supported `pre` (kNotSupported otherwise; an empty
    // `pre` uses llama.cpp's default pattern). Default add_bos: true for Llama 3 pre-tokenizers, else false.
    static Result<std::unique_ptr<BpeTokenizer>> create(VocabData data);

    TokenizerKind kind() const override { return TokenizerKind::kBytePair; }
    PreTokenizerKind pre_tokenizer() const { return pre_.kind(); }
    std::size_t merge_count() const { return merges_.size(); }

    // The GPT-2 byte-to-unicode table: bytes that are printable Latin-1 map to themselves, the other 68 to
    // U+0100.. in byte order (0x20 → U+0120 "Ġ").
    static std::uint32_t byte_to_codepoint(std::uint8_t byte);
    // Inverse of byte_to_codepoint; nullopt for code points outside the table.
    static std::optional<std::uint8_t> codepoint_to_byte(std::uint32_t codepoint);

  private:
    struct Merge {
        std::int32_t rank;
        TokenId result;
    };

    BpeTokenizer(VocabData data, std::vector<TokenId> prefix, std::vector<TokenId> suffix, PreTokenizerKind pre,
                 bool ignore_merges);

    void encode_fragment(std::string_view text, bool after_special, std::vector<TokenId>& out) const override;
    std::string normal_piece(TokenId id) const override;
    bool adds_leading_space() const override { return false; }

    void encode_piece(std::string_view piece, std::vector<TokenId>& out) const;
    static std::uint64_t pair_key(TokenId left, TokenId right) {
        return (static_cast<std::uint64_t>(static_cast<std::uint32_t>(left)) << 32) | static_cast<std::uint32_t>(right);
    }

    Gpt2PreTokenizer pre_;
    bool ignore_merges_;
    // (left id, right id) → rank and merged token.
    std::unordered_map<std::uint64_t, Merge> merges_;
    // Token of each byte's GPT-2 character (kNoToken when the vocabulary lacks it).
    std::array<TokenId, 256> byte_tokens_{};
};

}  // namespace kasten::llm
