#include "llm/bpe_tokenizer.h"

#include <queue>
#include <utility>

#include <fmt/format.h>

#include "common/log.h"
#include "llm/unicode_text.h"

namespace kasten::llm {
namespace {

struct ByteTables {
    std::array<std::uint32_t, 256> to_codepoint{};
    std::array<std::int16_t, 512> to_byte{};  // indexed by code point < 512; -1 when not in the table
};

const ByteTables& byte_tables() {
    static const ByteTables tables = [] {
        ByteTables t;
        t.to_byte.fill(-1);
        std::uint32_t next = 256;
        for (std::uint32_t b = 0; b < 256; ++b) {
            const bool printable = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE);
            t.to_codepoint[b] = printable ? b : next++;
            t.to_byte[t.to_codepoint[b]] = static_cast<std::int16_t>(b);
        }
        return t;
    }();
    return tables;
}

// Pre-tokenizer names for which llama.cpp takes a whole piece that is a token as is (Llama 3 family).
bool ignores_merges(std::string_view pre) {
    return pre == "llama3" || pre == "llama-v3" || pre == "llama-bpe" || pre == "falcon3" || pre == "falcon-h1" ||
           pre == "pixtral" || pre == "midm-2.0" || pre == "lfm2";
}

struct Symbol {
    TokenId id;  // kNoToken for a byte whose character is not in the vocabulary
    std::uint32_t start;
    std::uint32_t length;  // 0: merged into its left neighbour
    std::int32_t prev;
    std::int32_t next;
};

struct Bigram {
    std::int32_t rank;
    std::int32_t left;
    std::int32_t right;
    TokenId left_id;
    TokenId right_id;
    TokenId result;
};

// Lowest rank first; among equal ranks the leftmost pair.
struct BigramOrder {
    bool operator()(const Bigram& a, const Bigram& b) const {
        return a.rank > b.rank || (a.rank == b.rank && a.left > b.left);
    }
};

}  // namespace

std::uint32_t BpeTokenizer::byte_to_codepoint(std::uint8_t byte) {
    return byte_tables().to_codepoint[byte];
}

std::optional<std::uint8_t> BpeTokenizer::codepoint_to_byte(std::uint32_t codepoint) {
    if (codepoint >= 512) return std::nullopt;
    const std::int16_t b = byte_tables().to_byte[codepoint];
    if (b < 0) return std::nullopt;
    return static_cast<std::uint8_t>(b);
}

Result<std::unique_ptr<BpeTokenizer>> BpeTokenizer::create(VocabData data) {
    KASTEN_RETURN_IF_ERROR(validate(data));
    if (data.merges.empty()) return Status::invalid_argument("byte-level BPE vocabulary has no merges");
    KASTEN_ASSIGN_OR_RETURN(const PreTokenizerKind pre, Gpt2PreTokenizer::kind_from_name(data.pre));
    if (data.pre.empty()) {
        log::warn("tokenizer: BPE vocabulary names no pre-tokenizer; using llama.cpp's default pattern");
    }
    const bool ignore_merges = ignores_merges(data.pre);
    if (!data.add_bos) data.add_bos = ignore_merges;  // llama.cpp: Llama 3 vocabularies add BOS by default
    std::vector<TokenId> prefix;
    std::vector<TokenId> suffix;
    if (*data.add_bos && data.special.bos != kNoToken) prefix.push_back(data.special.bos);
    if (data.add_eos.value_or(false) && data.special.eos != kNoToken) suffix.push_back(data.special.eos);
    std::vector<std::string> merges = std::move(data.merges);
    std::unique_ptr<BpeTokenizer> t(
        new BpeTokenizer(std::move(data), std::move(prefix), std::move(suffix), pre, ignore_merges));

    std::size_t skipped = 0;
    t->merges_.reserve(merges.size());
    std::string joined;
    for (std::size_t rank = 0; rank < merges.size(); ++rank) {
        const std::string& m = merges[rank];
        const std::size_t space = m.size() > 1 ? m.find(' ', 1) : std::string::npos;
        if (space == std::string::npos) {
            ++skipped;
            continue;
        }
        const std::string_view left = std::string_view(m).substr(0, space);
        const std::string_view right = std::string_view(m).substr(space + 1);
        joined.assign(left);
        joined += right;
        const auto l = t->find_token(left);
        const auto r = t->find_token(right);
        const auto result = t->find_token(joined);
        if (!l || !r || !result) {
            ++skipped;
            continue;
        }
        t->merges_.try_emplace(pair_key(*l, *r), Merge{static_cast<std::int32_t>(rank), *result});
    }
    if (skipped > 0) {
        log::warn("tokenizer: {} of {} BPE merges name tokens that are not in the vocabulary; ignored", skipped,
                  merges.size());
    }
    t->build_pieces();
    return t;
}

BpeTokenizer::BpeTokenizer(VocabData data, std::vector<TokenId> prefix, std::vector<TokenId> suffix,
                           PreTokenizerKind pre, bool ignore_merges)
    : Tokenizer(std::move(data), std::move(prefix), std::move(suffix)), pre_(pre), ignore_merges_(ignore_merges) {
    std::string ch;
    for (int b = 0; b < 256; ++b) {
        ch.clear();
        unicode::append_utf8(byte_to_codepoint(static_cast<std::uint8_t>(b)), ch);
        const auto id = find_token(ch);
        byte_tokens_[static_cast<std::size_t>(b)] = id ? *id : kNoToken;
    }
}

void BpeTokenizer::encode_fragment(std::string_view text, bool /*after_special*/, std::vector<TokenId>& out) const {
    for (std::string_view piece : pre_.split(text)) encode_piece(piece, out);
}

void BpeTokenizer::encode_piece(std::string_view piece, std::vector<TokenId>& out) const {
    if (ignore_merges_) {
        std::string encoded;
        encoded.reserve(piece.size() * 2);
        for (char c : piece) unicode::append_utf8(byte_to_codepoint(static_cast<std::uint8_t>(c)), encoded);
        if (const auto id = find_token(encoded)) {
            out.push_back(*id);
            return;
        }
    }
    if (piece.size() == 1) {
        const TokenId id = byte_tokens_[static_cast<unsigned char>(piece[0])];
        if (id != kNoToken) {
            out.push_back(id);
        } else if (unknown_id() != kNoToken) {
            out.push_back(unknown_id());
        }
        return;
    }

    std::vector<Symbol> symbols(piece.size());
    for (std::size_t i = 0; i < piece.size(); ++i) {
        const auto index = static_cast<std::int32_t>(i);
        symbols[i] = {byte_tokens_[static_cast<unsigned char>(piece[i])], static_cast<std::uint32_t>(i), 1, index - 1,
                      i + 1 < piece.size() ? index + 1 : -1};
    }
    std::vector<Bigram> storage;
    storage.reserve(symbols.size());
    std::priority_queue<Bigram, std::vector<Bigram>, BigramOrder> queue(BigramOrder{}, std::move(storage));
    auto try_add = [&](std::int32_t left, std::int32_t right) {
        if (left < 0 || right < 0) return;
        const TokenId l = symbols[static_cast<std::size_t>(left)].id;
        const TokenId r = symbols[static_cast<std::size_t>(right)].id;
        if (l == kNoToken || r == kNoToken) return;
        const auto it = merges_.find(pair_key(l, r));
        if (it == merges_.end()) return;
        queue.push({it->second.rank, left, right, l, r, it->second.result});
    };
    for (std::size_t i = 1; i < symbols.size(); ++i) {
        try_add(static_cast<std::int32_t>(i - 1), static_cast<std::int32_t>(i));
    }
    while (!queue.empty()) {
        const Bigram b = queue.top();
        queue.pop();
        Symbol& l = symbols[static_cast<std::size_t>(b.left)];
        Symbol& r = symbols[static_cast<std::size_t>(b.right)];
        // Stale when either side has been merged since (a merged symbol gets a different, longer token).
        if (l.length == 0 || r.length == 0 || l.next != b.right || l.id != b.left_id || r.id != b.right_id) continue;
        l.id = b.result;
        l.length += r.length;
        r.length = 0;
        l.next = r.next;
        if (r.next >= 0) symbols[static_cast<std::size_t>(r.next)].prev = b.left;
        try_add(l.prev, b.left);
        try_add(b.left, l.next);
    }
    for (std::int32_t i = 0; i >= 0; i = symbols[static_cast<std::size_t>(i)].next) {
        const TokenId id = symbols[static_cast<std::size_t>(i)].id;
        if (id != kNoToken) {
            out.push_back(id);
        } else if (unknown_id() != kNoToken) {
            out.push_back(unknown_id());
        }
    }
}

std::string BpeTokenizer::normal_piece(TokenId id) const {
    const std::string& text = token_text(id);
    if (token_type(id) == TokenType::kByte) {
        if (auto byte = parse_byte_token(text)) return std::string(1, static_cast<char>(*byte));
    }
    std::string out;
    out.reserve(text.size());
    for (std::size_t pos = 0; pos < text.size();) {
        const unicode::Utf8Unit u = unicode::decode_utf8(text, pos);
        const auto byte = u.valid ? codepoint_to_byte(u.codepoint) : std::nullopt;
        if (byte) {
            out += static_cast<char>(*byte);
        } else {
            out.append(text, pos, u.length);  // not a byte character: the token's own text
        }
        pos += u.length;
    }
    return out;
}

}  // namespace kasten::llm
