#include "eval/locomo_f1.h"

#include <algorithm>
#include <map>

#include "eval/porter_stemmer.h"
#include "eval/utf8_codec.h"

namespace kasten::eval {

namespace {

char32_t lower_char(char32_t c) {
    if (c >= U'A' && c <= U'Z') return c + 32;
    if (c < 0x80) return c;
    if ((c >= 0xC0 && c <= 0xDE && c != 0xD7)) return c + 32;
    if (c >= 0x100 && c <= 0x137 && c != 0x130) return (c % 2 == 0) ? c + 1 : c;
    if (c >= 0x139 && c <= 0x148) return (c % 2 == 1) ? c + 1 : c;
    if (c >= 0x14A && c <= 0x177) return (c % 2 == 0) ? c + 1 : c;
    if (c == 0x178) return 0xFF;
    if (c >= 0x179 && c <= 0x17E) return (c % 2 == 1) ? c + 1 : c;
    if (c >= 0x391 && c <= 0x3AB && c != 0x3A2) return c + 32;
    if (c >= 0x410 && c <= 0x42F) return c + 32;
    if (c >= 0x400 && c <= 0x40F) return c + 80;
    return c;
}

// Python's str.split() separators.
bool python_space(char32_t c) {
    return (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20) || c == 0x85 || c == 0xA0 || c == 0x1680 ||
           (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}

bool ascii_punctuation(char32_t c) {
    return (c >= 0x21 && c <= 0x2F) || (c >= 0x3A && c <= 0x40) || (c >= 0x5B && c <= 0x60) || (c >= 0x7B && c <= 0x7E);
}

// \w of the regex module, approximated by script blocks (see the header).
bool word_char(char32_t c) {
    if (c < 0x80) return (c >= U'a' && c <= U'z') || (c >= U'A' && c <= U'Z') || (c >= U'0' && c <= U'9') || c == U'_';
    if (python_space(c)) return false;
    if (c <= 0xBF) return c == 0xAA || c == 0xB5 || c == 0xBA;
    if (c == 0xD7 || c == 0xF7) return false;
    if (c >= 0x2000 && c <= 0x2BFF) return false;  // punctuation, currency, letterlike, arrows, math, symbols
    if (c >= 0x2E00 && c <= 0x2E7F) return false;  // supplemental punctuation
    if (c >= 0x3000 && c <= 0x303F) return false;  // CJK symbols and punctuation
    if (c >= 0xFE10 && c <= 0xFE6F) return false;  // vertical forms, small forms
    if (c >= 0xFF01 && c <= 0xFF0F) return false;  // fullwidth punctuation
    if (c == 0xFFFD) return false;
    if (c >= 0x1F000 && c <= 0x1FAFF) return false;  // emoji and pictographs
    return true;
}

bool is_article(std::u32string_view w) {
    return w == U"a" || w == U"an" || w == U"the" || w == U"and";
}

std::vector<std::string> normalized_tokens(std::string_view text) {
    std::u32string s;
    for (char32_t c : decode_utf8(text)) {
        if (c == U',') continue;             // s.replace(',', '')
        c = lower_char(c);                   // lower
        if (ascii_punctuation(c)) continue;  // remove_punc
        s.push_back(c);
    }
    // remove_articles: a maximal run of word characters equal to an article becomes a space.
    std::u32string t;
    size_t i = 0;
    while (i < s.size()) {
        if (!word_char(s[i])) {
            t.push_back(s[i++]);
            continue;
        }
        size_t j = i;
        while (j < s.size() && word_char(s[j])) ++j;
        std::u32string_view run(s.data() + i, j - i);
        if (is_article(run))
            t.push_back(U' ');
        else
            t.append(run);
        i = j;
    }
    // white_space_fix + split
    std::vector<std::string> tokens;
    std::u32string cur;
    for (char32_t c : t) {
        if (python_space(c)) {
            if (!cur.empty()) tokens.push_back(encode_utf8(cur));
            cur.clear();
        } else {
            cur.push_back(c);
        }
    }
    if (!cur.empty()) tokens.push_back(encode_utf8(cur));
    return tokens;
}

std::vector<std::string> stemmed_tokens(std::string_view text) {
    std::vector<std::string> tokens = normalized_tokens(text);
    for (auto& w : tokens) w = porter_stem(w);
    return tokens;
}

std::vector<std::string> split_commas_stripped(std::string_view text) {
    std::vector<std::string> parts;
    size_t start = 0;
    for (;;) {
        size_t comma = text.find(',', start);
        std::string_view part =
            text.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
        std::u32string p = decode_utf8(part);
        size_t b = 0, e = p.size();
        while (b < e && python_space(p[b])) ++b;
        while (e > b && python_space(p[e - 1])) --e;
        parts.push_back(encode_utf8(std::u32string_view(p).substr(b, e - b)));
        if (comma == std::string_view::npos) break;
        start = comma + 1;
    }
    return parts;
}

std::string lower_ascii(std::string_view s) {
    std::string out(s);
    for (char& c : out) {
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    }
    return out;
}

}  // namespace

std::string locomo_normalize_answer(std::string_view text) {
    std::string out;
    for (const auto& t : normalized_tokens(text)) {
        if (!out.empty()) out.push_back(' ');
        out += t;
    }
    return out;
}

double locomo_f1_score(std::string_view prediction, std::string_view ground_truth) {
    const std::vector<std::string> pred = stemmed_tokens(prediction);
    const std::vector<std::string> gold = stemmed_tokens(ground_truth);
    std::map<std::string, int> pc, gc;
    for (const auto& t : pred) ++pc[t];
    for (const auto& t : gold) ++gc[t];
    int same = 0;
    for (const auto& [tok, n] : pc) {
        auto it = gc.find(tok);
        if (it != gc.end()) same += std::min(n, it->second);
    }
    if (same == 0) return 0.0;
    const double precision = static_cast<double>(same) / static_cast<double>(pred.size());
    const double recall = static_cast<double>(same) / static_cast<double>(gold.size());
    return 2 * precision * recall / (precision + recall);
}

double locomo_multi_answer_f1(std::string_view prediction, std::string_view ground_truth) {
    const std::vector<std::string> preds = split_commas_stripped(prediction);
    const std::vector<std::string> golds = split_commas_stripped(ground_truth);
    double total = 0;
    for (const auto& g : golds) {
        double best = 0;
        for (const auto& p : preds) best = std::max(best, locomo_f1_score(p, g));
        total += best;
    }
    return total / static_cast<double>(golds.size());
}

double locomo_answer_score(int category, std::string_view prediction, std::string_view answer) {
    switch (category) {
        case 1:
            return locomo_multi_answer_f1(prediction, answer);
        case 2:
        case 4:
            return locomo_f1_score(prediction, answer);
        case 3: {
            std::string_view gold = answer.substr(0, answer.find(';'));
            std::u32string g = decode_utf8(gold);
            size_t b = 0, e = g.size();
            while (b < e && python_space(g[b])) ++b;
            while (e > b && python_space(g[e - 1])) --e;
            return locomo_f1_score(prediction, encode_utf8(std::u32string_view(g).substr(b, e - b)));
        }
        case 5: {
            const std::string lower = lower_ascii(prediction);
            return lower.find("no information available") != std::string::npos ||
                           lower.find("not mentioned") != std::string::npos
                       ? 1.0
                       : 0.0;
        }
        default:
            return 0.0;
    }
}

}  // namespace kasten::eval
