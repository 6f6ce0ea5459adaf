#pragma once

#include <string>
#include <string_view>

namespace kasten::eval {

// The Porter stemmer exactly as NLTK's PorterStemmer() computes it in its default NLTK_EXTENSIONS mode (the stemmer
// behind LoCoMo's official F1): Porter (1980) steps 1a–5b plus NLTK's departures — a table of irregular forms
// (skies → sky, dying → die, news → news, ...), words of one or two letters left alone, "ies"/"ied" → "ie" in
// four-letter words, step 1c turning y into i only after a consonant that is not the first letter, "alli" handled
// before the other step-2 rules, and the "fulli" → "ful" and "logi" → "log" rules.
//
// Input is expected lower case (LoCoMo normalises first); bytes outside a–z are consonants, so non-ASCII words pass
// through the rules as the Python code passes them. Pure and thread-safe.
std::string porter_stem(std::string_view word);

}  // namespace kasten::eval
