#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "memory/word_tokenizer.h"

namespace kasten::memory {

// How precise a resolved date is.
enum class DateGranularity {
    kDay,      // one calendar day
    kWeek,     // a Monday-to-Sunday week; the day is its Monday
    kWeekend,  // a weekend; the day is its Saturday
    kMonth,    // a calendar month; the day is its 1st
    kYear,     // a calendar year; the day is January 1st
};

// One date expression found in a text.
struct DateMention {
    std::size_t begin = 0;  // byte span of the expression in the text ("last Tuesday")
    std::size_t end = 0;
    TimeMs day = 0;  // 00:00 UTC of the first day of the period (see DateGranularity)
    DateGranularity granularity = DateGranularity::kDay;
    // The text itself names the absolute date ("2023-05-30", "May 16, 2023", "in 2019"): nothing to annotate.
    bool explicit_date = false;
};

// Finds date expressions in English text and resolves the relative ones against the conversation time (UTC), never
// against "now". Pure and thread-safe; linear in the text (hand-written scanning over words, no regex).
//
// Recognised (case-insensitive unless noted; weekday and month names must be capitalised when they could be
// ordinary words — "May", "March" — and are in practice matched capitalised only):
//   today, tonight, this morning/afternoon/evening, yesterday, last night, tomorrow,
//   the day before yesterday, the day after tomorrow                                          -> day
//   N days|weeks ago, in N days|weeks, N days|weeks from now, a fortnight ago                    -> day (weeks = 7
//   days) N months ago, in N months -> month;  N years ago, in N years -> year
//     N: digits (1..999), one..twenty, thirty, "a"/"an" (1), "a couple of"/"couple of" (2). Vague counts ("a few",
//     "several", "some") are not resolved: no date is better than a wrong one.
//   last|this|next week -> week (Monday);  last|this|next weekend, this past weekend -> weekend (Saturday);
//   last|this|next month -> month;  last|this|next year -> year.  ("earlier this month" resolves via "this month".)
//     After "the" ("the last week", "the next year") these mean a span, not a calendar period, and are skipped.
//   last <weekday>, this past <weekday>: the most recent such day strictly before the conversation day;
//   next <weekday>, this coming <weekday>: the first such day strictly after it;
//   this <weekday>, on <weekday>: in a past-tense sentence the most recent such day (strictly before for "on",
//     on-or-before for "this"), otherwise the next one (strictly after for "on", on-or-after for "this").
//     Plural weekdays ("on Tuesdays") are habits, not dates, and are skipped.
//   <Month> <day>[st|nd|rd|th], <day>[th] [of] <Month>: with ", <year>" or "<year>" explicit; without a year, in a
//     past-tense sentence (or after "since") the most recent occurrence on or before the conversation day, otherwise
//     the next occurrence on or after it -> day.
//   in|since|during|early|mid|late|last|next|this <Month> (capitalised): same tense rule by month -> month;
//     "last <Month>" is the most recent such month strictly before the conversation month, "next <Month>" the first
//     strictly after; <Month> <year> ("May 2023") -> explicit month.
//   in|since|during|back in|of <year 1900..2100> -> explicit year.  ISO dates (2023-05-30, 2023/05/30) -> explicit
//   day.
// A sentence is past tense when it has more past markers (was, were, did, had, went, ago, yesterday, last, "-ed"
// verbs, common irregular past forms) than future markers (will, 'll, gonna, going to, plan(ning), next, tomorrow,
// upcoming); ties and neither count as not past.
class RelativeDateResolver {
  public:
    // Mentions in `text`, in text order, non-overlapping. Relative expressions are resolved against `conv_time`.
    static std::vector<DateMention> resolve(std::string_view text, TimeMs conv_time);
    // The same, for callers that already tokenised `text`: `tokens` must be WordTokenizer::tokenize(text).
    static std::vector<DateMention> resolve(std::string_view text, const std::vector<WordToken>& tokens,
                                            TimeMs conv_time);

    // "2023-05-16" (day), "week of 2023-05-15", "weekend of 2023-05-20", "2023-05" (month), "2023" (year).
    static std::string label(const DateMention& mention);

    // `text` with " (<label>)" inserted after every mention that is not explicit_date.
    // `mentions` must come from resolve(text, …).
    static std::string annotate(std::string_view text, const std::vector<DateMention>& mentions);
};

}  // namespace kasten::memory
