#include "llm/wordpiece_tokenizer.h"

#include <algorithm>
#include <optional>
#include <utility>

#include "llm/unicode_text.h"

namespace kasten::llm {
namespace {

constexpr std::string_view kPhantomSpace = "\xE2\x96\x81";  // U+2581 "▁"
constexpr std::string_view kContinuation = "##";

// CJK ideographs, as BERT's _is_chinese_char (including its 0x2B920 quirk).
bool is_cjk_ideograph(std::uint32_t cp) {
    return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) || (cp >= 0x20000 && cp <= 0x2A6DF) ||
           (cp >= 0x2A700 && cp <= 0x2B73F) || (cp >= 0x2B740 && cp <= 0x2B81F) || (cp >= 0x2B920 && cp <= 0x2CEAF) ||
           (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x2F800 && cp <= 0x2FA1F);
}

bool is_ascii_punctuation(std::uint32_t cp) {
    return (cp >= 0x21 && cp <= 0x2F) || (cp >= 0x3A && cp <= 0x40) || (cp >= 0x5B && cp <= 0x60) ||
           (cp >= 0x7B && cp <= 0x7E);
}

bool is_bert_punctuation(std::uint32_t cp) {
    return is_ascii_punctuation(cp) || (unicode::codepoint_flags(cp) & unicode::kPunctuation) != 0;
}

}  // namespace

Result<std::unique_ptr<WordPieceTokenizer>> WordPieceTokenizer::create(VocabData data) {
    KASTEN_RETURN_IF_ERROR(validate(data));
    const auto n = static_cast<TokenId>(data.tokens.size());
    auto default_id = [n](TokenId& id, TokenId fallback) {
        if (id == kNoToken && fallback < n) id = fallback;
    };
    if (data.special.cls == kNoToken) data.special.cls = data.special.bos;
    default_id(data.special.cls, 101);
    default_id(data.special.sep, 102);
    default_id(data.special.unk, 100);
    if (data.special.bos == kNoToken) data.special.bos = data.special.cls;
    if (!data.add_bos) data.add_bos = true;
    std::vector<TokenId> prefix;
    std::vector<TokenId> suffix;
    if (*data.add_bos && data.special.cls != kNoToken) prefix.push_back(data.special.cls);
    if (data.special.sep != kNoToken) suffix.push_back(data.special.sep);
    std::unique_ptr<WordPieceTokenizer> t(
        new WordPieceTokenizer(std::move(data), std::move(prefix), std::move(suffix)));
    t->build_pieces();
    return t;
}

WordPieceTokenizer::WordPieceTokenizer(VocabData data, std::vector<TokenId> prefix, std::vector<TokenId> suffix)
    : Tokenizer(std::move(data), std::move(prefix), std::move(suffix)) {
    std::size_t phantom = 0;
    std::size_t continuation = 0;
    for (const std::string& t : tokens()) {
        if (t.starts_with(kPhantomSpace)) ++phantom;
        if (t.starts_with(kContinuation) && t.size() > kContinuation.size()) ++continuation;
        max_token_bytes_ = std::max(max_token_bytes_, t.size());
    }
    phantom_space_ = phantom >= continuation;
}

std::vector<std::string> WordPieceTokenizer::words(std::string_view text) const {
    // Normalisation (BertNormalizer): clean-up, CJK isolation.
    std::vector<std::uint32_t> cleaned;
    cleaned.reserve(text.size());
    for (std::size_t pos = 0; pos < text.size();) {
        const unicode::Utf8Unit u = unicode::decode_utf8(text, pos);
        pos += u.length;
        const std::uint32_t cp = u.codepoint;
        if (!u.valid || cp == 0 || cp == unicode::kReplacementCharacter) continue;
        const std::uint16_t flags = unicode::codepoint_flags(cp);
        if (cp == '\t' || cp == '\n' || cp == '\r') {
            cleaned.push_back(' ');
        } else if (flags & (unicode::kControl | unicode::kUnassigned)) {
            continue;
        } else if (flags & unicode::kWhitespace) {
            cleaned.push_back(' ');
        } else if (is_cjk_ideograph(cp)) {
            cleaned.insert(cleaned.end(), {' ', cp, ' '});
        } else {
            cleaned.push_back(cp);
        }
    }
    // Accents (NFD, drop Mn), then lower case.
    std::vector<std::uint32_t> normalized;
    normalized.reserve(cleaned.size());
    for (std::uint32_t cp : unicode::to_nfd(cleaned)) {
        if (unicode::codepoint_flags(cp) & unicode::kNonspacingMark) continue;
        unicode::append_lower(cp, normalized);
    }
    // Pre-tokenisation (BertPreTokenizer).
    std::vector<std::string> out;
    std::string word;
    auto finish = [&] {
        if (!word.empty()) out.push_back(std::move(word));
        word.clear();
    };
    for (std::uint32_t cp : normalized) {
        if (unicode::is_whitespace(cp)) {
            finish();
        } else if (is_bert_punctuation(cp)) {
            finish();
            unicode::append_utf8(cp, word);
            finish();
        } else {
            unicode::append_utf8(cp, word);
        }
    }
    finish();
    return out;
}

std::string WordPieceTokenizer::normal_form(std::string_view text) const {
    std::string out;
    for (const std::string& w : words(text)) {
        if (!out.empty()) out += ' ';
        out += w;
    }
    return out;
}

void WordPieceTokenizer::encode_fragment(std::string_view text, bool /*after_special*/,
                                         std::vector<TokenId>& out) const {
    for (const std::string& word : words(text)) encode_word(word, out);
}

void WordPieceTokenizer::encode_word(const std::string& word, std::vector<TokenId>& out) const {
    std::vector<std::size_t> bounds;  // byte offset of every character, plus the end
    for (std::size_t pos = 0; pos < word.size(); pos += unicode::decode_utf8(word, pos).length) bounds.push_back(pos);
    bounds.push_back(word.size());
    const std::size_t chars = bounds.size() - 1;
    auto unknown = [&] {
        if (unknown_id() != kNoToken) out.push_back(unknown_id());
    };
    if (chars > kMaxWordChars) {
        unknown();
        return;
    }
    std::vector<TokenId> pieces;
    std::string key;
    std::size_t start = 0;
    while (start < chars) {
        const bool initial = start == 0;
        const std::string_view marker = phantom_space_ ? (initial ? kPhantomSpace : std::string_view{})
                                                       : (initial ? std::string_view{} : kContinuation);
        std::optional<TokenId> found;
        std::size_t end = chars;
        for (; end > start; --end) {
            const std::size_t bytes = bounds[end] - bounds[start];
            if (bytes + marker.size() > max_token_bytes_) continue;
            key.assign(marker);
            key.append(word, bounds[start], bytes);
            found = find_token(key);
            if (found) break;
        }
        if (!found) {
            unknown();
            return;
        }
        pieces.push_back(*found);
        start = end;
    }
    out.insert(out.end(), pieces.begin(), pieces.end());
}

std::string WordPieceTokenizer::normal_piece(TokenId id) const {
    const std::string& text = token_text(id);
    if (!phantom_space_) {
        if (text.starts_with(kContinuation) && text.size() > kContinuation.size()) {
            return text.substr(kContinuation.size());
        }
        return " " + text;
    }
    std::string out;
    out.reserve(text.size());
    for (std::size_t pos = 0; pos < text.size();) {
        if (text.compare(pos, kPhantomSpace.size(), kPhantomSpace) == 0) {
            out += ' ';
            pos += kPhantomSpace.size();
        } else {
            out += text[pos++];
        }
    }
    return out;
}

}  // namespace kasten::llm
