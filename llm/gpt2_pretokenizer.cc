#include "llm/gpt2_pretokenizer.h"

#include <cstdint>

#include <fmt/format.h>

#include "llm/unicode_text.h"

namespace kasten::llm {
namespace {

using unicode::kLetter;
using unicode::kNumber;
using unicode::kPunctuation;
using unicode::kSymbol;
using unicode::kWhitespace;

constexpr std::uint32_t kNoCodepoint = 0xFFFFFFFF;

// The input decoded once: code point, category flags and starting byte of every unit (plus the end offset).
struct DecodedText {
    std::vector<std::uint32_t> cps;
    std::vector<std::uint16_t> flags;
    std::vector<std::size_t> offsets;
};

DecodedText decode(std::string_view text) {
    DecodedText t;
    t.cps.reserve(text.size());
    t.flags.reserve(text.size());
    t.offsets.reserve(text.size() + 1);
    for (std::size_t pos = 0; pos < text.size();) {
        const unicode::Utf8Unit u = unicode::decode_utf8(text, pos);
        t.cps.push_back(u.valid ? u.codepoint : kNoCodepoint - 1);
        // A stray byte is "other" (neither letter, number nor space), like U+FFFD would be.
        t.flags.push_back(u.valid ? unicode::codepoint_flags(u.codepoint) : std::uint16_t{kSymbol});
        t.offsets.push_back(pos);
        pos += u.length;
    }
    t.offsets.push_back(text.size());
    return t;
}

// Splits one piece [begin, end) of code point indices, appending the ends of its sub-pieces to `ends`.
// Positions outside the piece read as "no character" (flags 0), so lookaheads stop at the piece boundary
// exactly as a regex applied to the piece alone would.
class PieceSplitter {
  public:
    PieceSplitter(const DecodedText& t, std::size_t begin, std::size_t end, std::vector<std::size_t>& ends)
        : t_(t), begin_(begin), end_(end), prev_(begin), ends_(ends) {}

    std::uint32_t cp(std::size_t pos) const { return pos >= begin_ && pos < end_ ? t_.cps[pos] : kNoCodepoint; }
    std::uint16_t flags(std::size_t pos) const { return pos >= begin_ && pos < end_ ? t_.flags[pos] : 0; }
    std::size_t begin() const { return begin_; }
    std::size_t end() const { return end_; }

    // Closes the current sub-piece at `end` (no-op when empty).
    void emit(std::size_t end) {
        if (end > prev_) ends_.push_back(end);
        prev_ = end;
    }

    // Length of a contraction ('s 't 'm 'd 're 've 'll) at `pos`, 0 when there is none.
    std::size_t contraction(std::size_t pos, bool ignore_case) const {
        if (cp(pos) != '\'') return 0;
        auto lower = [&](std::uint32_t c) { return ignore_case && c >= 'A' && c <= 'Z' ? c + 32 : c; };
        const std::uint32_t c1 = lower(cp(pos + 1));
        if (c1 == 's' || c1 == 't' || c1 == 'm' || c1 == 'd') return 2;
        const std::uint32_t c2 = lower(cp(pos + 2));
        if ((c1 == 'r' && c2 == 'e') || (c1 == 'v' && c2 == 'e') || (c1 == 'l' && c2 == 'l')) return 3;
        return 0;
    }

    bool is_other(std::uint16_t f) const { return f != 0 && (f & (kWhitespace | kLetter | kNumber)) == 0; }

  private:
    const DecodedText& t_;
    std::size_t begin_;
    std::size_t end_;
    std::size_t prev_;
    std::vector<std::size_t>& ends_;
};

// Whitespace alternatives shared by both families: \s+(?!\S)|\s+ (a run followed by a non-space gives up its
// last character, which then prefixes the next piece).
std::size_t whitespace_run_end(const PieceSplitter& s, std::size_t pos) {
    std::size_t n = 0;
    while (s.flags(pos + n) & kWhitespace) ++n;
    if (n > 1 && pos + n < s.end()) return pos + n - 1;
    return pos + (n > 0 ? n : 1);
}

// 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
void split_gpt2(PieceSplitter& s) {
    for (std::size_t pos = s.begin(); pos < s.end();) {
        if (std::size_t n = s.contraction(pos, /*ignore_case=*/false)) {
            pos += n;
            s.emit(pos);
            continue;
        }
        const bool space = s.cp(pos) == ' ';
        const std::uint16_t f2 = space ? s.flags(pos + 1) : s.flags(pos);
        if (f2 & kLetter) {
            pos += space ? 2 : 1;
            while (s.flags(pos) & kLetter) ++pos;
        } else if (f2 & kNumber) {
            pos += space ? 2 : 1;
            while (s.flags(pos) & kNumber) ++pos;
        } else if (s.is_other(f2)) {
            pos += space ? 2 : 1;
            while (s.is_other(s.flags(pos))) ++pos;
        } else {
            pos = whitespace_run_end(s, pos);
        }
        s.emit(pos);
    }
    s.emit(s.end());
}

// (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,max_digits}| ?[^\s\p{L}\p{N}]+[\r\n]*|
// \s*[\r\n]+|\s+(?!\S)|\s+
void split_llama3(PieceSplitter& s, std::size_t max_digits) {
    auto is_newline = [](std::uint32_t c) { return c == '\r' || c == '\n'; };
    for (std::size_t pos = s.begin(); pos < s.end();) {
        if (std::size_t n = s.contraction(pos, /*ignore_case=*/true)) {
            pos += n;
            s.emit(pos);
            continue;
        }
        const std::uint32_t c = s.cp(pos);
        const std::uint16_t f = s.flags(pos);
        if (!is_newline(c) && !(f & kNumber) && ((f & kLetter) || (s.flags(pos + 1) & kLetter))) {
            ++pos;  // the letter itself, or the one optional leading non-letter
            while (s.flags(pos) & kLetter) ++pos;
            s.emit(pos);
            continue;
        }
        if (f & kNumber) {
            std::size_t run = 0;
            while (s.flags(pos) & kNumber) {
                ++pos;
                if (++run == max_digits) {
                    s.emit(pos);
                    run = 0;
                }
            }
            s.emit(pos);
            continue;
        }
        const bool space = c == ' ';
        const std::uint16_t f2 = space ? s.flags(pos + 1) : f;
        if (s.is_other(f2)) {
            pos += space ? 2 : 1;
            while (s.is_other(s.flags(pos))) ++pos;
            while (is_newline(s.cp(pos))) ++pos;
            s.emit(pos);
            continue;
        }
        std::size_t last_newline_end = 0;
        for (std::size_t p = pos; s.flags(p) & kWhitespace; ++p) {
            if (is_newline(s.cp(p))) last_newline_end = p + 1;
        }
        pos = last_newline_end > 0 ? last_newline_end : whitespace_run_end(s, pos);
        s.emit(pos);
    }
    s.emit(s.end());
}

// Every character matching `pred` alone (single=true) or as maximal runs becomes a piece; the text between
// matches forms pieces too.
template <typename Pred>
void split_matches(PieceSplitter& s, Pred pred, bool single) {
    for (std::size_t pos = s.begin(); pos < s.end();) {
        if (!pred(pos)) {
            ++pos;
            continue;
        }
        s.emit(pos);
        ++pos;
        if (!single) {
            while (pos < s.end() && pred(pos)) ++pos;
        }
        s.emit(pos);
    }
    s.emit(s.end());
}

// [0-9][0-9][0-9], leftmost, non-overlapping.
void split_ascii_digit_triples(PieceSplitter& s) {
    auto digit = [&](std::size_t p) { return s.cp(p) >= '0' && s.cp(p) <= '9'; };
    for (std::size_t pos = s.begin(); pos < s.end();) {
        if (digit(pos) && digit(pos + 1) && digit(pos + 2)) {
            s.emit(pos);
            pos += 3;
            s.emit(pos);
        } else {
            ++pos;
        }
    }
    s.emit(s.end());
}

enum class Pattern { kGpt2, kLlama3, kQwen2, kEachNumber, kNumberRuns, kPunctuationRuns, kDigitTriples };

std::vector<Pattern> patterns_of(PreTokenizerKind kind) {
    switch (kind) {
        case PreTokenizerKind::kGpt2:
            return {Pattern::kGpt2};
        case PreTokenizerKind::kLlama3:
            return {Pattern::kLlama3};
        case PreTokenizerKind::kQwen2:
            return {Pattern::kQwen2};
        case PreTokenizerKind::kDigitsThenGpt2:
            return {Pattern::kEachNumber, Pattern::kGpt2};
        case PreTokenizerKind::kDefault:
            return {Pattern::kPunctuationRuns, Pattern::kGpt2, Pattern::kNumberRuns, Pattern::kDigitTriples};
    }
    return {Pattern::kGpt2};
}

void apply(Pattern pattern, PieceSplitter& s) {
    switch (pattern) {
        case Pattern::kGpt2:
            split_gpt2(s);
            return;
        case Pattern::kLlama3:
            split_llama3(s, 3);
            return;
        case Pattern::kQwen2:
            split_llama3(s, 1);
            return;
        case Pattern::kEachNumber:
            split_matches(
                s, [&](std::size_t p) { return (s.flags(p) & kNumber) != 0; }, /*single=*/true);
            return;
        case Pattern::kNumberRuns:
            split_matches(
                s, [&](std::size_t p) { return (s.flags(p) & kNumber) != 0; }, /*single=*/false);
            return;
        case Pattern::kPunctuationRuns: {
            // [\p{P}\$\+<=>\^~\|]+
            auto pred = [&](std::size_t p) {
                const std::uint32_t c = s.cp(p);
                return (s.flags(p) & kPunctuation) != 0 || c == '$' || c == '+' || c == '<' || c == '=' || c == '>' ||
                       c == '^' || c == '~' || c == '|';
            };
            split_matches(s, pred, /*single=*/false);
            return;
        }
        case Pattern::kDigitTriples:
            split_ascii_digit_triples(s);
            return;
    }
}

}  // namespace

Result<PreTokenizerKind> Gpt2PreTokenizer::kind_from_name(std::string_view pre) {
    if (pre.empty() || pre == "default") return PreTokenizerKind::kDefault;
    if (pre == "gpt-2" || pre == "gpt2" || pre == "phi-2" || pre == "mpt" || pre == "olmo" || pre == "jais" ||
        pre == "jina-es" || pre == "jina-de" || pre == "jina-v2-es" || pre == "jina-v2-de" || pre == "roberta-bpe" ||
        pre == "jina-v1-en" || pre == "jina-v2-code" || pre == "exaone4" || pre == "trillion" || pre == "gigachat" ||
        pre == "mellum" || pre == "modern-bert" || pre == "a.x-4.0") {
        return PreTokenizerKind::kGpt2;
    }
    if (pre == "llama-bpe" || pre == "llama3" || pre == "llama-v3" || pre == "falcon3" || pre == "dbrx" ||
        pre == "smaug-bpe" || pre == "pixtral" || pre == "falcon-h1" || pre == "chatglm-bpe" || pre == "glm4" ||
        pre == "midm-2.0" || pre == "lfm2") {
        return PreTokenizerKind::kLlama3;
    }
    if (pre == "qwen2" || pre == "deepseek-r1-qwen" || pre == "stablelm2" || pre == "megrez" || pre == "hunyuan" ||
        pre == "grok-2") {
        return PreTokenizerKind::kQwen2;
    }
    if (pre == "starcoder" || pre == "smollm" || pre == "refact" || pre == "command-r" || pre == "codeshell" ||
        pre == "exaone" || pre == "minerva-7b") {
        return PreTokenizerKind::kDigitsThenGpt2;
    }
    return Status::not_supported(
        fmt::format("pre-tokenizer '{}' is not supported (supported: gpt-2, llama-bpe, "
                    "qwen2, smollm, starcoder and their aliases, default)",
                    pre));
}

std::string_view Gpt2PreTokenizer::kind_name(PreTokenizerKind kind) {
    switch (kind) {
        case PreTokenizerKind::kGpt2:
            return "gpt-2";
        case PreTokenizerKind::kLlama3:
            return "llama3";
        case PreTokenizerKind::kQwen2:
            return "qwen2";
        case PreTokenizerKind::kDigitsThenGpt2:
            return "digits+gpt-2";
        case PreTokenizerKind::kDefault:
            return "default";
    }
    return "unknown";
}

std::vector<std::string_view> Gpt2PreTokenizer::split(std::string_view text) const {
    std::vector<std::string_view> pieces;
    if (text.empty()) return pieces;
    const DecodedText t = decode(text);
    std::vector<std::size_t> ends = {t.cps.size()};
    std::vector<std::size_t> next;
    for (Pattern pattern : patterns_of(kind_)) {
        next.clear();
        next.reserve(ends.size() * 2);
        std::size_t begin = 0;
        for (std::size_t end : ends) {
            PieceSplitter splitter(t, begin, end, next);
            apply(pattern, splitter);
            begin = end;
        }
        ends.swap(next);
    }
    pieces.reserve(ends.size());
    std::size_t begin = 0;
    for (std::size_t end : ends) {
        pieces.push_back(text.substr(t.offsets[begin], t.offsets[end] - t.offsets[begin]));
        begin = end;
    }
    return pieces;
}

}  // namespace kasten::llm
