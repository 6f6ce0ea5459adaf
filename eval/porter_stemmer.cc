#include "eval/porter_stemmer.h"

#include <functional>
#include <unordered_map>
#include <vector>

#include "eval/utf8_codec.h"

namespace kasten::eval {

namespace {

using Stem = std::u32string;
using Condition = std::function<bool(const Stem&)>;

bool is_vowel_letter(char32_t c) {
    return c == U'a' || c == U'e' || c == U'i' || c == U'o' || c == U'u';
}

// A consonant is a letter other than a, e, i, o, u, and other than a y preceded by a consonant.
bool consonant(const Stem& w, size_t i) {
    if (is_vowel_letter(w[i])) return false;
    if (w[i] == U'y') return i == 0 ? true : !consonant(w, i - 1);
    return true;
}

// m in [C](VC){m}[V]: the number of vowel→consonant transitions.
int measure(const Stem& s) {
    int m = 0;
    for (size_t i = 1; i < s.size(); ++i) {
        if (!consonant(s, i - 1) && consonant(s, i)) ++m;
    }
    return m;
}

bool contains_vowel(const Stem& s) {
    for (size_t i = 0; i < s.size(); ++i) {
        if (!consonant(s, i)) return true;
    }
    return false;
}

bool ends_with(const Stem& w, std::u32string_view suffix) {
    return w.size() >= suffix.size() && w.compare(w.size() - suffix.size(), suffix.size(), suffix) == 0;
}

bool ends_double_consonant(const Stem& w) {
    return w.size() >= 2 && w[w.size() - 1] == w[w.size() - 2] && consonant(w, w.size() - 1);
}

// *o: ends consonant-vowel-consonant, the last not w, x or y; NLTK also accepts a two-letter vowel-consonant word.
bool ends_cvc(const Stem& w) {
    const size_t n = w.size();
    if (n >= 3 && consonant(w, n - 3) && !consonant(w, n - 2) && consonant(w, n - 1) && w[n - 1] != U'w' &&
        w[n - 1] != U'x' && w[n - 1] != U'y') {
        return true;
    }
    return n == 2 && !consonant(w, 0) && consonant(w, 1);
}

bool positive_measure(const Stem& s) {
    return measure(s) > 0;
}

struct Rule {
    Stem suffix;  // U"*d" = any double consonant; U"" = always matches
    Stem replacement;
    Condition condition;  // empty = unconditional
};

// The first rule whose suffix matches decides: its replacement when its condition holds, else the word unchanged.
Stem apply_rules(const Stem& word, const std::vector<Rule>& rules) {
    for (const Rule& r : rules) {
        if (r.suffix == U"*d") {
            if (!ends_double_consonant(word)) continue;
            Stem stem = word.substr(0, word.size() - 2);
            return !r.condition || r.condition(stem) ? stem + r.replacement : word;
        }
        if (!ends_with(word, r.suffix)) continue;
        Stem stem = word.substr(0, word.size() - r.suffix.size());
        return !r.condition || r.condition(stem) ? stem + r.replacement : word;
    }
    return word;
}

Stem replace_suffix(const Stem& w, std::u32string_view suffix, std::u32string_view replacement) {
    return w.substr(0, w.size() - suffix.size()) + Stem(replacement);
}

Stem step1a(const Stem& w) {
    if (ends_with(w, U"ies") && w.size() == 4) return replace_suffix(w, U"ies", U"ie");
    return apply_rules(w, {{U"sses", U"ss", {}}, {U"ies", U"i", {}}, {U"ss", U"ss", {}}, {U"s", U"", {}}});
}

Stem step1b(const Stem& w) {
    if (ends_with(w, U"ied")) return replace_suffix(w, U"ied", w.size() == 4 ? U"ie" : U"i");
    if (ends_with(w, U"eed")) {
        Stem stem = replace_suffix(w, U"eed", U"");
        return measure(stem) > 0 ? stem + U"ee" : w;
    }
    Stem intermediate;
    bool trimmed = false;
    for (std::u32string_view suffix : {U"ed", U"ing"}) {
        if (ends_with(w, suffix)) {
            intermediate = replace_suffix(w, suffix, U"");
            if (contains_vowel(intermediate)) {
                trimmed = true;
                break;
            }
        }
    }
    if (!trimmed) return w;
    const char32_t last = intermediate.empty() ? U'\0' : intermediate.back();
    return apply_rules(intermediate, {{U"at", U"ate", {}},
                                      {U"bl", U"ble", {}},
                                      {U"iz", U"ize", {}},
                                      {U"*d", Stem(1, last),
                                       [last](const Stem&) { return last != U'l' && last != U's' && last != U'z'; }},
                                      {U"", U"e", [](const Stem& s) { return measure(s) == 1 && ends_cvc(s); }}});
}

Stem step1c(const Stem& w) {
    return apply_rules(w, {{U"y", U"i", [](const Stem& s) { return s.size() > 1 && consonant(s, s.size() - 1); }}});
}

Stem step2(const Stem& w) {
    if (ends_with(w, U"alli") && positive_measure(replace_suffix(w, U"alli", U""))) {
        return step2(replace_suffix(w, U"alli", U"al"));
    }
    const Condition pm = positive_measure;
    const Stem word = w;
    return apply_rules(
        w, {{U"ational", U"ate", pm},
            {U"tional", U"tion", pm},
            {U"enci", U"ence", pm},
            {U"anci", U"ance", pm},
            {U"izer", U"ize", pm},
            {U"bli", U"ble", pm},
            {U"alli", U"al", pm},
            {U"entli", U"ent", pm},
            {U"eli", U"e", pm},
            {U"ousli", U"ous", pm},
            {U"ization", U"ize", pm},
            {U"ation", U"ate", pm},
            {U"ator", U"ate", pm},
            {U"alism", U"al", pm},
            {U"iveness", U"ive", pm},
            {U"fulness", U"ful", pm},
            {U"ousness", U"ous", pm},
            {U"aliti", U"al", pm},
            {U"iviti", U"ive", pm},
            {U"biliti", U"ble", pm},
            {U"fulli", U"ful", pm},
            // The 'l' of U"logi" stays with the stem for the measure (geo-, theo-).
            {U"logi", U"log", [word](const Stem&) { return positive_measure(word.substr(0, word.size() - 3)); }}});
}

Stem step3(const Stem& w) {
    const Condition pm = positive_measure;
    return apply_rules(w, {{U"icate", U"ic", pm},
                           {U"ative", U"", pm},
                           {U"alize", U"al", pm},
                           {U"iciti", U"ic", pm},
                           {U"ical", U"ic", pm},
                           {U"ful", U"", pm},
                           {U"ness", U"", pm}});
}

Stem step4(const Stem& w) {
    const Condition gt1 = [](const Stem& s) { return measure(s) > 1; };
    return apply_rules(
        w, {{U"al", U"", gt1},
            {U"ance", U"", gt1},
            {U"ence", U"", gt1},
            {U"er", U"", gt1},
            {U"ic", U"", gt1},
            {U"able", U"", gt1},
            {U"ible", U"", gt1},
            {U"ant", U"", gt1},
            {U"ement", U"", gt1},
            {U"ment", U"", gt1},
            {U"ent", U"", gt1},
            {U"ion", U"",
             [](const Stem& s) { return measure(s) > 1 && !s.empty() && (s.back() == U's' || s.back() == U't'); }},
            {U"ou", U"", gt1},
            {U"ism", U"", gt1},
            {U"ate", U"", gt1},
            {U"iti", U"", gt1},
            {U"ous", U"", gt1},
            {U"ive", U"", gt1},
            {U"ize", U"", gt1}});
}

Stem step5a(const Stem& w) {
    if (ends_with(w, U"e")) {
        Stem stem = replace_suffix(w, U"e", U"");
        const int m = measure(stem);
        if (m > 1) return stem;
        if (m == 1 && !ends_cvc(stem)) return stem;
    }
    return w;
}

Stem step5b(const Stem& w) {
    const Stem word = w;
    return apply_rules(w,
                       {{U"ll", U"l", [word](const Stem&) { return measure(word.substr(0, word.size() - 1)) > 1; }}});
}

const std::unordered_map<std::string, std::string>& irregular_forms() {
    static const std::unordered_map<std::string, std::string> kForms = {
        {"sky", "sky"},        {"skies", "sky"},       {"dying", "die"},        {"lying", "lie"},
        {"tying", "tie"},      {"news", "news"},       {"innings", "inning"},   {"inning", "inning"},
        {"outings", "outing"}, {"outing", "outing"},   {"cannings", "canning"}, {"canning", "canning"},
        {"howe", "howe"},      {"proceed", "proceed"}, {"exceed", "exceed"},    {"succeed", "succeed"}};
    return kForms;
}

}  // namespace

std::string porter_stem(std::string_view word) {
    auto irregular = irregular_forms().find(std::string(word));
    if (irregular != irregular_forms().end()) return irregular->second;
    Stem w = decode_utf8(word);
    if (w.size() <= 2) return std::string(word);
    w = step1a(w);
    w = step1b(w);
    w = step1c(w);
    w = step2(w);
    w = step3(w);
    w = step4(w);
    w = step5a(w);
    w = step5b(w);
    return encode_utf8(w);
}

}  // namespace kasten::eval
