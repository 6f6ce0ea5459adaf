#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace kasten::eval {

// LoCoMo's official answer scoring (snap-research/locomo task_eval/evaluation.py), reproduced rule by rule.
//
// normalize_answer: remove every ','; lower-case; remove ASCII punctuation (Python's string.punctuation); replace
// the words a, an, the, and (regex \b(a|an|the|and)\b) by a space; collapse whitespace. Lower-casing covers ASCII,
// Latin-1, Latin Extended-A, Greek and Cyrillic; word boundaries treat letters and digits of any script as word
// characters and Unicode punctuation, symbols and spaces as non-word characters.
std::string locomo_normalize_answer(std::string_view text);

// f1_score: token F1 between the normalized, whitespace-split, Porter-stemmed (NLTK) tokens, counting repeats
// (Counter intersection); 0 when nothing is shared.
double locomo_f1_score(std::string_view prediction, std::string_view ground_truth);

// f1 (category 1, multi-hop): prediction and gold are split on ',' (parts stripped); the mean over gold parts of the
// best f1_score against any prediction part.
double locomo_multi_answer_f1(std::string_view prediction, std::string_view ground_truth);

// The official score of one answer by category id: 1 → multi-answer F1; 2, 4 → F1; 3 → F1 against the gold cut at
// its first ';' (stripped); 5 → 1 when the lower-cased prediction contains "no information available" or "not
// mentioned", else 0. Any other category scores 0 (the official code raises). `answer` is the gold as the official
// code sees it (str(answer); unused for category 5).
double locomo_answer_score(int category, std::string_view prediction, std::string_view answer);

}  // namespace kasten::eval
