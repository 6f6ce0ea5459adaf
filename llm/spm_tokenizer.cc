#include "llm/spm_tokenizer.h"

#include <queue>
#include <utility>

#include <fmt/format.h>

#include "llm/unicode_text.h"

namespace kasten::llm {
namespace {

constexpr std::string_view kSpaceMarker = "\xE2\x96\x81";  // U+2581 "▁"

// One symbol of the text being merged: bytes [start, start + length) of the escaped text, linked to its
// neighbours. length 0 marks a symbol merged into its left neighbour.
struct Symbol {
    std::uint32_t start;
    std::uint32_t length;
    std::int32_t prev;
    std::int32_t next;
};

struct Bigram {
    float score;
    std::int32_t left;
    std::int32_t right;
    std::uint32_t length;  // bytes of left + right when queued; a mismatch later means the bigram is stale
};

// Highest score first; among equal scores the leftmost pair.
struct BigramOrder {
    bool operator()(const Bigram& a, const Bigram& b) const {
        return a.score < b.score || (a.score == b.score && a.left > b.left);
    }
};

}  // namespace

Result<std::unique_ptr<SpmTokenizer>> SpmTokenizer::create(VocabData data) {
    KASTEN_RETURN_IF_ERROR(validate(data));
    const auto n = static_cast<TokenId>(data.tokens.size());
    auto default_id = [n](TokenId& id, TokenId fallback) {
        if (id == kNoToken && fallback < n) id = fallback;
    };
    default_id(data.special.bos, 1);
    default_id(data.special.eos, 2);
    default_id(data.special.unk, 0);
    if (!data.add_bos) data.add_bos = true;
    const bool space_prefix = data.add_space_prefix.value_or(true);
    std::vector<TokenId> prefix;
    std::vector<TokenId> suffix;
    if (*data.add_bos && data.special.bos != kNoToken) prefix.push_back(data.special.bos);
    if (data.add_eos.value_or(false) && data.special.eos != kNoToken) suffix.push_back(data.special.eos);
    std::unique_ptr<SpmTokenizer> t(
        new SpmTokenizer(std::move(data), std::move(prefix), std::move(suffix), space_prefix));
    t->build_pieces();
    return t;
}

SpmTokenizer::SpmTokenizer(VocabData data, std::vector<TokenId> prefix, std::vector<TokenId> suffix,
                           bool add_space_prefix)
    : Tokenizer(std::move(data), std::move(prefix), std::move(suffix)), add_space_prefix_(add_space_prefix) {
    for (int b = 0; b < 256; ++b) {
        TokenId id = kNoToken;
        if (auto hex = find_token(fmt::format("<0x{:02X}>", b))) {
            id = *hex;
        } else if (auto raw = find_token(std::string(1, static_cast<char>(b)))) {
            id = *raw;
        } else {
            id = unknown_id();
        }
        byte_tokens_[static_cast<std::size_t>(b)] = id;
    }
}

void SpmTokenizer::encode_fragment(std::string_view text, bool after_special, std::vector<TokenId>& out) const {
    std::string s;
    s.reserve(text.size() + text.size() / 2 + kSpaceMarker.size());
    if (add_space_prefix_ && after_special) s += kSpaceMarker;
    for (char c : text) {
        if (c == ' ') {
            s += kSpaceMarker;
        } else {
            s += c;
        }
    }
    if (s.empty()) return;

    std::vector<Symbol> symbols;
    symbols.reserve(s.size());
    for (std::size_t pos = 0; pos < s.size();) {
        const std::uint32_t len = unicode::decode_utf8(s, pos).length;
        const auto index = static_cast<std::int32_t>(symbols.size());
        symbols.push_back({static_cast<std::uint32_t>(pos), len, index - 1, -1});
        pos += len;
        if (pos < s.size()) symbols.back().next = index + 1;
    }

    std::vector<Bigram> storage;
    storage.reserve(symbols.size());
    std::priority_queue<Bigram, std::vector<Bigram>, BigramOrder> queue(BigramOrder{}, std::move(storage));
    auto try_add = [&](std::int32_t left, std::int32_t right) {
        if (left < 0 || right < 0) return;
        const Symbol& l = symbols[static_cast<std::size_t>(left)];
        const Symbol& r = symbols[static_cast<std::size_t>(right)];
        const std::uint32_t length = l.length + r.length;
        const auto id = find_token(std::string_view(s).substr(l.start, length));
        if (!id) return;
        queue.push({token_score(*id), left, right, length});
    };
    for (std::size_t i = 1; i < symbols.size(); ++i) {
        try_add(static_cast<std::int32_t>(i - 1), static_cast<std::int32_t>(i));
    }
    while (!queue.empty()) {
        const Bigram b = queue.top();
        queue.pop();
        Symbol& l = symbols[static_cast<std::size_t>(b.left)];
        Symbol& r = symbols[static_cast<std::size_t>(b.right)];
        if (l.length == 0 || r.length == 0 || l.length + r.length != b.length) continue;
        l.length += r.length;
        r.length = 0;
        l.next = r.next;
        if (r.next >= 0) symbols[static_cast<std::size_t>(r.next)].prev = b.left;
        try_add(l.prev, b.left);
        try_add(b.left, l.next);
    }

    for (std::int32_t i = 0; i >= 0; i = symbols[static_cast<std::size_t>(i)].next) {
        const Symbol& sym = symbols[static_cast<std::size_t>(i)];
        const std::string_view piece = std::string_view(s).substr(sym.start, sym.length);
        if (const auto id = find_token(piece)) {
            out.push_back(*id);
            continue;
        }
        for (char c : piece) {
            const TokenId id = byte_tokens_[static_cast<unsigned char>(c)];
            if (id != kNoToken) out.push_back(id);
        }
    }
}

std::string SpmTokenizer::normal_piece(TokenId id) const {
    const std::string& text = token_text(id);
    if (token_type(id) == TokenType::kByte) {
        if (auto byte = parse_byte_token(text)) return std::string(1, static_cast<char>(*byte));
        return {};
    }
    std::string out;
    out.reserve(text.size());
    for (std::size_t pos = 0; pos < text.size();) {
        if (text.compare(pos, kSpaceMarker.size(), kSpaceMarker) == 0) {
            out += ' ';
            pos += kSpaceMarker.size();
        } else {
            out += text[pos++];
        }
    }
    return out;
}

}  // namespace kasten::llm
