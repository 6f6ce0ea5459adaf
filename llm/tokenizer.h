#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/status.h"
#include "llm/vocab_data.h"

namespace kasten::llm {

enum class TokenizerKind {
    kSentencePiece,  // "llama": SentencePiece-style BPE over "▁"-escaped text with <0xXX> byte fallback
    kBytePair,       // "gpt2": byte-level BPE after a regex pre-tokenizer
    kWordPiece,      // "bert": BERT basic tokenizer + greedy longest-match WordPiece
};

struct EncodeOptions {
    // Put the vocabulary's sequence tokens around the text: BOS / EOS as its add_bos / add_eos say, or [CLS] ...
    // [SEP] for WordPiece.
    bool add_special = false;
    // Recognise the text of control tokens ("<s>", "<|im_start|>") in the input and emit their ids. Only for
    // text that is allowed to steer the model (a rendered chat template), never for raw user input.
    // User-defined tokens are always recognised, as in llama.cpp and Hugging Face tokenizers.
    bool parse_special = false;
};

struct DecodeOptions {
    // Render control, unknown and unused tokens as their text ("<s>"); otherwise they produce nothing.
    bool render_special = false;
    // Drop the one space the encoder itself put in front of text at the start of the sequence and after each
    // special token (SentencePiece add_space_prefix, the WordPiece word marker), so decode(encode(x)) == x.
    // Set it to false when decoding a continuation (generated tokens after a prompt) piece by piece.
    bool strip_leading_space = true;
};

// A piece of input and whether the text of control tokens inside it is recognised (see EncodeOptions).
struct TextSegment {
    std::string_view text;
    bool parse_special = false;
};

// A tokenizer over one vocabulary: text ⇄ token ids. Built by make_tokenizer() (llm/tokenizer_factory.h).
// Immutable after construction; every method is const and safe to call from several threads at once.
// Token ids from outside (out of range) never crash: they decode to nothing and report kUndefined.
class Tokenizer {
  public:
    virtual ~Tokenizer() = default;
    Tokenizer(const Tokenizer&) = delete;
    Tokenizer& operator=(const Tokenizer&) = delete;

    virtual TokenizerKind kind() const = 0;

    // Text (UTF-8; ill-formed bytes are kept as byte tokens where the vocabulary allows) to token ids.
    std::vector<TokenId> encode(std::string_view text, const EncodeOptions& options = {}) const;

    // Encodes the concatenation of `segments`, recognising control tokens only inside segments that allow it:
    // a rendered chat template passes its markup with parse_special and the message contents without, so a
    // message cannot inject "<|im_start|>system". Text is tokenized across segment boundaries exactly as in
    // encode() of the joined text.
    std::vector<TokenId> encode(std::span<const TextSegment> segments, bool add_special) const;

    // Token ids to text: the concatenated bytes of the tokens (see DecodeOptions).
    std::string decode(std::span<const TokenId> ids, const DecodeOptions& options = {}) const;

    // The bytes one token stands for, with no space stripping; a byte token gives one byte, which may be part
    // of a multi-byte UTF-8 character. Control/unknown/unused tokens give their text only with render_special.
    std::string_view token_to_piece(TokenId id, bool render_special = false) const;

    std::int32_t vocab_size() const { return static_cast<std::int32_t>(tokens_.size()); }
    bool is_valid(TokenId id) const { return id >= 0 && id < vocab_size(); }
    // The vocabulary entry as stored ("▁the", "Ġthe", "<0x0A>"); empty for invalid ids.
    const std::string& token_text(TokenId id) const;
    TokenType token_type(TokenId id) const;
    float token_score(TokenId id) const;
    std::optional<TokenId> find_token(std::string_view text) const;

    // Control, unknown and unused tokens: markup, not text.
    bool is_control(TokenId id) const;
    // Tokens that end a generation: EOS, EOT, EOM and the end-of-turn markers llama.cpp recognises by text
    // (<|eot_id|>, <|im_end|>, <|end|>, <|endoftext|>, <end_of_turn>...).
    bool is_end_of_generation(TokenId id) const;
    const std::vector<TokenId>& end_of_generation_ids() const { return eog_ids_; }

    const SpecialTokenIds& special_ids() const { return special_; }
    TokenId bos() const { return special_.bos; }
    TokenId eos() const { return special_.eos; }
    bool add_bos() const { return add_bos_; }
    bool add_eos() const { return add_eos_; }
    // tokenizer.chat_template of the vocabulary (Jinja); empty when it had none.
    const std::string& chat_template() const { return chat_template_; }

  protected:
    // Checks the parts every vocabulary needs: non-empty token list, scores and types of matching length,
    // valid token types. kInvalidArgument / kCorruption otherwise.
    [[nodiscard]] static Status validate(const VocabData& data);

    // REQUIRES: validate(data) is ok and the model defaults (special ids, add_bos...) are already filled in.
    // `prefix` / `suffix` are the tokens add_special puts around a sequence.
    Tokenizer(VocabData data, std::vector<TokenId> prefix, std::vector<TokenId> suffix);

    // Fills the piece cache; subclasses call it once at the end of their factory, after their own state is
    // ready (it calls normal_piece()).
    void build_pieces();

    // Encodes text that contains no special token. `after_special` is true at the start of the input and right
    // after a special token.
    virtual void encode_fragment(std::string_view text, bool after_special, std::vector<TokenId>& out) const = 0;
    // Bytes of a normal or byte token (not called for control, unknown, unused or user-defined tokens).
    virtual std::string normal_piece(TokenId id) const = 0;
    // Whether the encoder prefixes text with a space at the start and after special tokens.
    virtual bool adds_leading_space() const = 0;

    TokenId unknown_id() const { return special_.unk; }
    const std::vector<std::string>& tokens() const { return tokens_; }
    // Parses "<0xXX>" (upper- or lower-case hex); nullopt otherwise.
    static std::optional<std::uint8_t> parse_byte_token(std::string_view text);

  private:
    // A special token found in the input: its id and byte length; kNoToken when none starts at `pos`.
    std::pair<TokenId, std::size_t> match_special(std::string_view text, std::size_t pos, bool parse_special) const;

    std::vector<std::string> tokens_;
    std::vector<float> scores_;
    std::vector<TokenType> types_;
    std::unordered_map<std::string_view, TokenId> index_;  // views into tokens_
    std::vector<std::string> pieces_;
    SpecialTokenIds special_;
    bool add_bos_ = false;
    bool add_eos_ = false;
    std::vector<TokenId> prefix_;
    std::vector<TokenId> suffix_;
    std::vector<TokenId> eog_ids_;
    std::string chat_template_;
    // Special tokens matched in text, bucketed by first byte, longest first.
    std::array<std::vector<TokenId>, 256> special_by_first_byte_;
};

}  // namespace kasten::llm
