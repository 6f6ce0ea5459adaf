#include "memory/relative_date_resolver.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

#include "common/timestamp.h"
#include "memory/word_tokenizer.h"

namespace kasten::memory {
namespace {

using namespace std::string_view_literals;

constexpr TimeMs kMsPerDay = 86'400'000;

struct Civil {
    long long year;
    int month;
    int day;
};

// Proleptic Gregorian date of a day number (days since 1970-01-01); inverse of kasten::days_from_civil.
Civil civil_from_days(long long z) {
    z += 719468;
    const long long era = (z >= 0 ? z : z - 146096) / 146097;
    const long long doe = z - era * 146097;
    const long long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const long long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const long long mp = (5 * doy + 2) / 153;
    const int d = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
    const int m = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
    return {yoe + era * 400 + (m <= 2 ? 1 : 0), m, d};
}

bool is_leap(long long y) {
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}
int days_in_month(long long y, int m) {
    constexpr std::array<int, 12> kDays = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : kDays[static_cast<std::size_t>(m - 1)];
}
long long floor_div(long long a, long long b) {
    return a / b - ((a % b != 0) && ((a < 0) != (b < 0)) ? 1 : 0);
}
// Monday = 0 … Sunday = 6 (1970-01-01 was a Thursday).
int weekday_of(long long day) {
    return static_cast<int>(((day % 7) + 7 + 3) % 7);
}
long long day_of(long long y, int m, int d) {
    return days_from_civil(static_cast<int>(y), m, d);
}
// First day of the month `months` after (y, m) (negative: before).
long long month_start(long long y, int m, long long months) {
    const long long index = y * 12 + (m - 1) + months;
    return day_of(floor_div(index, 12), static_cast<int>(index - floor_div(index, 12) * 12) + 1, 1);
}

constexpr std::array kWeekdays = {"monday"sv, "tuesday"sv,  "wednesday"sv, "thursday"sv,
                                  "friday"sv, "saturday"sv, "sunday"sv};
constexpr std::array kMonths = {"january"sv, "february"sv, "march"sv,     "april"sv,   "may"sv,      "june"sv,
                                "july"sv,    "august"sv,   "september"sv, "october"sv, "november"sv, "december"sv};
constexpr std::array kMonthAbbrevs = {"jan"sv, "feb"sv, "mar"sv, "apr"sv, "may"sv, "jun"sv,
                                      "jul"sv, "aug"sv, "sep"sv, "oct"sv, "nov"sv, "dec"sv};
constexpr std::array kNumberWords = {"zero"sv,     "one"sv,      "two"sv,      "three"sv,   "four"sv,    "five"sv,
                                     "six"sv,      "seven"sv,    "eight"sv,    "nine"sv,    "ten"sv,     "eleven"sv,
                                     "twelve"sv,   "thirteen"sv, "fourteen"sv, "fifteen"sv, "sixteen"sv, "seventeen"sv,
                                     "eighteen"sv, "nineteen"sv, "twenty"sv};

constexpr std::array kPastWords = {
    "was"sv,     "were"sv,       "did"sv,     "had"sv,  "went"sv,  "ago"sv,     "yesterday"sv, "last"sv,  "wasn't"sv,
    "weren't"sv, "didn't"sv,     "hadn't"sv,  "got"sv,  "came"sv,  "saw"sv,     "bought"sv,    "made"sv,  "took"sv,
    "met"sv,     "left"sv,       "began"sv,   "ran"sv,  "ate"sv,   "drank"sv,   "drove"sv,     "flew"sv,  "found"sv,
    "gave"sv,    "heard"sv,      "kept"sv,    "knew"sv, "lost"sv,  "paid"sv,    "said"sv,      "sold"sv,  "sent"sv,
    "spent"sv,   "told"sv,       "thought"sv, "won"sv,  "wrote"sv, "brought"sv, "caught"sv,    "fell"sv,  "felt"sv,
    "forgot"sv,  "held"sv,       "meant"sv,   "rode"sv, "sang"sv,  "sat"sv,     "slept"sv,     "spoke"sv, "stood"sv,
    "swam"sv,    "taught"sv,     "threw"sv,   "woke"sv, "wore"sv,  "became"sv,  "built"sv,     "chose"sv, "fought"sv,
    "grew"sv,    "broke"sv,      "hid"sv,     "led"sv,  "lent"sv,  "drew"sv,    "dug"sv,       "shot"sv,  "struck"sv,
    "tore"sv,    "understood"sv, "upset"sv};
constexpr std::array kFutureWords = {"will"sv,     "won't"sv,     "gonna"sv,    "plan"sv,     "plans"sv,
                                     "planning"sv, "next"sv,      "tomorrow"sv, "upcoming"sv, "soon"sv,
                                     "intend"sv,   "intending"sv, "hoping"sv,   "shall"sv,    "coming"sv};
// Words ending in "ed" that are usually adjectives or not verbs at all.
constexpr std::array kNotPastEd = {
    "need"sv,      "indeed"sv,      "speed"sv,       "seed"sv,      "feed"sv,        "breed"sv,       "hundred"sv,
    "proceed"sv,   "succeed"sv,     "exceed"sv,      "embed"sv,     "interested"sv,  "excited"sv,     "tired"sv,
    "married"sv,   "bored"sv,       "worried"sv,     "scared"sv,    "supposed"sv,    "based"sv,       "related"sv,
    "advanced"sv,  "experienced"sv, "detailed"sv,    "limited"sv,   "unlimited"sv,   "balanced"sv,    "organized"sv,
    "crowded"sv,   "dedicated"sv,   "complicated"sv, "motivated"sv, "overwhelmed"sv, "stressed"sv,    "confused"sv,
    "surprised"sv, "pleased"sv,     "satisfied"sv,   "concerned"sv, "involved"sv,    "engaged"sv,     "retired"sv,
    "qualified"sv, "skilled"sv,     "talented"sv,    "allowed"sv,   "required"sv,    "recommended"sv, "prepared"sv,
    "scheduled"sv, "expected"sv,    "planned"sv};

// Lower-case words that may follow a year ("in 2019 and 2020", "in 2019 when we met").
constexpr std::array kAfterYear = {"and"sv,   "or"sv,     "when"sv, "i"sv,  "we"sv,    "my"sv,      "our"sv,
                                   "after"sv, "before"sv, "for"sv,  "to"sv, "at"sv,    "in"sv,      "on"sv,
                                   "but"sv,   "so"sv,     "with"sv, "as"sv, "while"sv, "because"sv, "until"sv};

template <std::size_t N>
int index_in(const std::array<std::string_view, N>& list, std::string_view word) {
    const auto it = std::find(list.begin(), list.end(), word);
    return it == list.end() ? -1 : static_cast<int>(it - list.begin());
}

template <std::size_t N>
std::unordered_set<std::string_view> set_of(const std::array<std::string_view, N>& list) {
    return {list.begin(), list.end()};
}

bool is_past_marker(std::string_view w) {
    static const auto past = set_of(kPastWords);
    static const auto not_past = set_of(kNotPastEd);
    if (past.contains(w)) return true;
    return w.size() >= 5 && w.ends_with("ed") && !not_past.contains(w);
}
bool is_future_marker(std::string_view w) {
    static const auto future = set_of(kFutureWords);
    return future.contains(w) || w.ends_with("'ll");
}

// Words a date expression can start with (besides words with digits).
bool may_start_date(std::string_view w) {
    constexpr std::size_t kMaxLength = 10;
    struct Starts {
        std::unordered_set<std::string_view> words;  // all lower-case ASCII, shorter than kMaxLength
        // Bit c - 'a' of first_letters[n]: some word of length n starts with c. Rejects most words before hashing.
        std::array<std::uint32_t, kMaxLength> first_letters{};
    };
    static const Starts starts = [] {
        Starts built;
        built.words = {"the"sv,    "today"sv, "tonight"sv, "yesterday"sv, "tomorrow"sv, "last"sv,
                       "this"sv,   "next"sv,  "on"sv,      "in"sv,        "since"sv,    "during"sv,
                       "early"sv,  "mid"sv,   "late"sv,    "of"sv,        "until"sv,    "by"sv,
                       "around"sv, "a"sv,     "an"sv,      "couple"sv,    "thirty"sv,   "sept"sv};
        built.words.insert(kNumberWords.begin(), kNumberWords.end());
        built.words.insert(kMonths.begin(), kMonths.end());
        built.words.insert(kMonthAbbrevs.begin(), kMonthAbbrevs.end());
        for (std::string_view word : built.words) built.first_letters[word.size()] |= 1u << (word[0] - 'a');
        return built;
    }();
    if (w.empty() || w.size() >= kMaxLength || w[0] < 'a' || w[0] > 'z') return false;
    if ((starts.first_letters[w.size()] & (1u << (w[0] - 'a'))) == 0) return false;
    return starts.words.contains(w);
}

enum class Unit { kNone, kDay, kWeek, kFortnight, kMonth, kYear };

Unit unit_of(std::string_view w) {
    if (w == "day" || w == "days") return Unit::kDay;
    if (w == "week" || w == "weeks") return Unit::kWeek;
    if (w == "fortnight" || w == "fortnights") return Unit::kFortnight;
    if (w == "month" || w == "months") return Unit::kMonth;
    if (w == "year" || w == "years") return Unit::kYear;
    return Unit::kNone;
}

// Integer value of an all-digit token, or -1 (tokens longer than 6 digits are not small numbers).
int digits_value(const WordToken& t) {
    if (!t.numeric || t.lower.empty() || t.lower.size() > 6) return -1;
    int v = 0;
    for (char c : t.lower) {
        if (c < '0' || c > '9') return -1;
        v = v * 10 + (c - '0');
    }
    return v;
}

// Day of month from "16", "16th", "1st", "2nd", "3rd"; -1 otherwise. `suffixed` tells whether a suffix was there.
int day_number(const WordToken& t, bool& suffixed) {
    const std::string& w = t.lower;
    std::size_t d = 0;
    while (d < w.size() && w[d] >= '0' && w[d] <= '9') ++d;
    if (d == 0 || d > 2) return -1;
    const std::string_view rest = std::string_view(w).substr(d);
    if (!rest.empty() && rest != "st" && rest != "nd" && rest != "rd" && rest != "th") return -1;
    suffixed = !rest.empty();
    const int v = d == 1 ? w[0] - '0' : (w[0] - '0') * 10 + (w[1] - '0');
    return v >= 1 && v <= 31 ? v : -1;
}

int year_number(const WordToken& t) {
    if (!t.numeric || t.lower.size() != 4) return -1;
    const int v = digits_value(t);
    return v >= 1900 && v <= 2100 ? v : -1;
}

class Scanner {
  public:
    Scanner(std::string_view text, const std::vector<WordToken>& tokens, TimeMs conv_time)
        : text_(text), tokens_(tokens), today_(floor_div(conv_time, kMsPerDay)) {
        const Civil c = civil_from_days(today_);
        year_ = c.year;
        month_ = c.month;
    }

    std::vector<DateMention> run() {
        std::vector<DateMention> out;
        std::size_t i = 0;
        while (i < tokens_.size()) {
            std::size_t next = i + 1;
            if (auto m = match_at(i, next)) {
                out.push_back(*m);
                i = next;
            } else {
                ++i;
            }
        }
        return out;
    }

  private:
    std::string_view w(std::size_t i) const { return i < tokens_.size() ? std::string_view(tokens_[i].lower) : ""; }
    // The text between token i-1 and token i.
    std::string_view gap(std::size_t i) const {
        if (i == 0 || i >= tokens_.size()) return {};
        return text_.substr(tokens_[i - 1].end, tokens_[i].begin - tokens_[i - 1].end);
    }
    // Token i exists and is separated from token i-1 by spaces only (at most one `extra` character besides).
    bool joined(std::size_t i, char extra = ' ') const {
        if (i == 0 || i >= tokens_.size()) return false;
        const std::string_view g = gap(i);
        if (g.empty()) return false;
        bool extra_used = false;
        for (char c : g) {
            if (c == ' ' || c == '\t') continue;
            if (c == extra && !extra_used) {
                extra_used = true;
                continue;
            }
            return false;
        }
        return true;
    }

    int weekday_at(std::size_t i) const { return i < tokens_.size() ? index_in(kWeekdays, tokens_[i].lower) : -1; }
    // Month 1..12 of a capitalised month name or abbreviation at i, else 0.
    int month_at(std::size_t i) const {
        if (i >= tokens_.size() || !tokens_[i].capitalized) return 0;
        int m = index_in(kMonths, tokens_[i].lower);
        if (m < 0) m = index_in(kMonthAbbrevs, tokens_[i].lower);
        if (m < 0 && tokens_[i].lower == "sept") m = 8;
        return m + 1;
    }
    bool month_is_abbrev(std::size_t i) const { return index_in(kMonths, tokens_[i].lower) < 0; }

    // A count at i ("3", "three", "a", "a couple of"); sets `after` to the token after it. -1 if none.
    int count_at(std::size_t i, std::size_t& after) const {
        if (i >= tokens_.size()) return -1;
        std::string_view t = w(i);
        if (t == "a" || t == "an") {
            if (w(i + 1) == "couple" && joined(i + 1) && w(i + 2) == "of" && joined(i + 2)) {
                after = i + 3;
                return 2;
            }
            after = i + 1;
            return 1;
        }
        if (t == "couple" && w(i + 1) == "of" && joined(i + 1)) {
            after = i + 2;
            return 2;
        }
        after = i + 1;
        if (t == "thirty") return 30;
        const int word = index_in(kNumberWords, t);
        if (word >= 1) return word;
        const int v = digits_value(tokens_[i]);
        return v >= 1 && v <= 999 ? v : -1;
    }

    bool sentence_break(std::size_t i) const { return gap(i).find_first_of(".!?\n") != std::string_view::npos; }
    // Whether the sentence around token i is past tense (computed on first use, per sentence).
    bool past_at(std::size_t i) const {
        std::size_t first = i;
        while (first > 0 && !sentence_break(first)) --first;
        if (const auto it = past_by_sentence_.find(first); it != past_by_sentence_.end()) return it->second;
        int past = 0;
        int future = 0;
        for (std::size_t k = first; k < tokens_.size() && (k == first || !sentence_break(k)); ++k) {
            std::string_view t = tokens_[k].lower;
            if (is_past_marker(t)) ++past;
            if (is_future_marker(t)) ++future;
            if (t == "going" && w(k + 1) == "to") ++future;
        }
        past_by_sentence_.emplace(first, past > future);
        return past > future;
    }

    DateMention make(std::size_t first, std::size_t last, long long day, DateGranularity g, bool explicit_date) const {
        DateMention m;
        m.begin = tokens_[first].begin;
        m.end = tokens_[last].end;
        m.day = day * kMsPerDay;
        m.granularity = g;
        m.explicit_date = explicit_date;
        return m;
    }

    long long monday() const { return today_ - weekday_of(today_); }
    long long last_weekday(int wd) const {
        int delta = (weekday_of(today_) - wd + 7) % 7;
        if (delta == 0) delta = 7;
        return today_ - delta;
    }
    long long next_weekday(int wd) const {
        int delta = (wd - weekday_of(today_) + 7) % 7;
        if (delta == 0) delta = 7;
        return today_ + delta;
    }

    // The most recent (past) or next (otherwise) occurrence of month/day relative to today; nullopt if invalid.
    std::optional<long long> month_day(int month, int day, bool past) const {
        long long y = year_;
        for (int attempt = 0; attempt < 8; ++attempt) {  // Feb 29 may need a few years
            if (day <= days_in_month(y, month)) {
                const long long d = day_of(y, month, day);
                if (past && d > today_) {
                    --y;
                    continue;
                }
                if (!past && d < today_) {
                    ++y;
                    continue;
                }
                return d;
            }
            y += past ? -1 : 1;
        }
        return std::nullopt;
    }

    std::optional<DateMention> match_at(std::size_t i, std::size_t& next) const {
        std::string_view t = w(i);
        if (!tokens_[i].has_digit && !may_start_date(t)) return std::nullopt;
        // ISO dates: 2023-05-30, 2023/05/30.
        if (const int y = year_number(tokens_[i]); y > 0) {
            const std::string_view g1 = gap(i + 1);
            if (i + 2 < tokens_.size() && (g1 == "-" || g1 == "/") && gap(i + 2) == g1) {
                const int m = digits_value(tokens_[i + 1]);
                const int d = digits_value(tokens_[i + 2]);
                if (tokens_[i + 1].lower.size() <= 2 && tokens_[i + 2].lower.size() <= 2 && m >= 1 && m <= 12 &&
                    d >= 1 && d <= days_in_month(y, m)) {
                    next = i + 3;
                    return make(i, i + 2, day_of(y, m, d), DateGranularity::kDay, true);
                }
            }
        }
        if (t == "the" && w(i + 1) == "day" && joined(i + 1) && joined(i + 2) && joined(i + 3)) {
            if (w(i + 2) == "before" && w(i + 3) == "yesterday") {
                next = i + 4;
                return make(i, i + 3, today_ - 2, DateGranularity::kDay, false);
            }
            if (w(i + 2) == "after" && w(i + 3) == "tomorrow") {
                next = i + 4;
                return make(i, i + 3, today_ + 2, DateGranularity::kDay, false);
            }
        }
        if (t == "today" || t == "tonight") return single(i, next, today_);
        if (t == "yesterday") return single(i, next, today_ - 1);
        if (t == "tomorrow") return single(i, next, today_ + 1);
        if (t == "last" && w(i + 1) == "night" && joined(i + 1)) {
            next = i + 2;
            return make(i, i + 1, today_ - 1, DateGranularity::kDay, false);
        }
        if (t == "this" && joined(i + 1) &&
            (w(i + 1) == "morning" || w(i + 1) == "afternoon" || w(i + 1) == "evening")) {
            next = i + 2;
            return make(i, i + 1, today_, DateGranularity::kDay, false);
        }
        if (t == "last" || t == "this" || t == "next") {
            if (auto m = match_period(i, next)) return m;
        }
        if (t == "on" && joined(i + 1)) {
            const int wd = weekday_at(i + 1);
            if (wd >= 0 && !followed_by_month_day(i + 2)) {
                next = i + 2;
                return make(i, i + 1, past_at(i) ? last_weekday(wd) : next_weekday(wd), DateGranularity::kDay, false);
            }
        }
        if (t == "in" && !past_at(i)) {  // in 3 days / in a week (future); "did it in 3 years" is a duration
            std::size_t after = 0;
            if (joined(i + 1)) {
                const int n = count_at(i + 1, after);
                if (n > 0 && joined(after)) {
                    const Unit u = unit_of(w(after));
                    if (u != Unit::kNone) {
                        next = after + 1;
                        return offset(i, after, n, u, +1);
                    }
                }
            }
        }
        {
            std::size_t after = 0;
            const int n = count_at(i, after);
            if (n > 0 && joined(after)) {
                const Unit u = unit_of(w(after));
                if (u != Unit::kNone && joined(after + 1)) {
                    if (w(after + 1) == "ago") {
                        next = after + 2;
                        return offset(i, after + 1, n, u, -1);
                    }
                    if (w(after + 1) == "from" && joined(after + 2) &&
                        (w(after + 2) == "now" || w(after + 2) == "today")) {
                        next = after + 3;
                        return offset(i, after + 2, n, u, +1);
                    }
                }
            }
        }
        if (auto m = match_month_day(i, next)) return m;
        if (t == "in" || t == "since" || t == "during" || t == "early" || t == "mid" || t == "late" || t == "of" ||
            t == "until" || t == "by" || t == "around") {
            if (auto m = match_prefixed_month_or_year(i, next)) return m;
        }
        return std::nullopt;
    }

    std::optional<DateMention> single(std::size_t i, std::size_t& next, long long day) const {
        next = i + 1;
        return make(i, i, day, DateGranularity::kDay, false);
    }

    // n units before (sign -1) or after (+1) today; the span is tokens first..last.
    std::optional<DateMention> offset(std::size_t first, std::size_t last, int n, Unit u, int sign) const {
        switch (u) {
            case Unit::kDay:
                return make(first, last, today_ + sign * n, DateGranularity::kDay, false);
            case Unit::kWeek:
                return make(first, last, today_ + sign * 7LL * n, DateGranularity::kDay, false);
            case Unit::kFortnight:
                return make(first, last, today_ + sign * 14LL * n, DateGranularity::kDay, false);
            case Unit::kMonth:
                return make(first, last, month_start(year_, month_, sign * static_cast<long long>(n)),
                            DateGranularity::kMonth, false);
            case Unit::kYear:
                return make(first, last, day_of(year_ + sign * n, 1, 1), DateGranularity::kYear, false);
            case Unit::kNone:
                break;
        }
        return std::nullopt;
    }

    // last|this|next (past|coming)? weekday|week|weekend|month|year|<Month>.
    std::optional<DateMention> match_period(std::size_t i, std::size_t& next) const {
        if (i > 0 && w(i - 1) == "the" && joined(i)) return std::nullopt;  // "the last week": a span
        std::string_view mod = w(i);
        std::size_t j = i + 1;
        if (!joined(j)) return std::nullopt;
        if (mod == "this" && (w(j) == "past" || w(j) == "coming") && joined(j + 1)) {
            mod = w(j) == "past" ? "last" : "next";
            ++j;
        }
        std::string_view unit = w(j);
        next = j + 1;
        if (const int wd = weekday_at(j); wd >= 0) {
            long long d;
            if (mod == "last") {
                d = last_weekday(wd);
            } else if (mod == "next") {
                d = next_weekday(wd);
            } else {
                const int today_wd = weekday_of(today_);
                d = past_at(i) ? today_ - (today_wd - wd + 7) % 7 : today_ + (wd - today_wd + 7) % 7;
            }
            return make(i, j, d, DateGranularity::kDay, false);
        }
        const int sign = mod == "last" ? -1 : (mod == "next" ? 1 : 0);
        if (unit == "week") return make(i, j, monday() + 7LL * sign, DateGranularity::kWeek, false);
        if (unit == "weekend") {
            const long long saturday = mod == "last" ? monday() - 2 : monday() + 5 + 7LL * (sign > 0 ? 1 : 0);
            return make(i, j, saturday, DateGranularity::kWeekend, false);
        }
        if (unit == "month") return make(i, j, month_start(year_, month_, sign), DateGranularity::kMonth, false);
        if (unit == "year") return make(i, j, day_of(year_ + sign, 1, 1), DateGranularity::kYear, false);
        if (const int m = month_at(j); m > 0 && !followed_by_day(j + 1)) {
            long long y = year_;
            if (mod == "last" && m >= month_) --y;
            if (mod == "next" && m <= month_) ++y;
            return make(i, j, day_of(y, m, 1), DateGranularity::kMonth, false);
        }
        return std::nullopt;
    }

    bool followed_by_day(std::size_t j) const {
        bool suffixed = false;
        return j < tokens_.size() && (joined(j) || joined(j, '.')) && day_number(tokens_[j], suffixed) > 0;
    }
    // Tokens from j on form "<Month> <day>" (after an optional comma): a weekday before it is part of that date.
    bool followed_by_month_day(std::size_t j) const {
        return j < tokens_.size() && (joined(j) || joined(j, ',')) && month_at(j) > 0 && followed_by_day(j + 1);
    }

    // <Month> <day> [, <year>] | <Month> <year> | <day>[th] [of] <Month> [<year>].
    std::optional<DateMention> match_month_day(std::size_t i, std::size_t& next) const {
        bool suffixed = false;
        if (const int m = month_at(i); m > 0) {
            const std::size_t j = i + 1;
            const bool abbrev = month_is_abbrev(i);
            if (j < tokens_.size() && (joined(j) || (abbrev && joined(j, '.')))) {
                if (const int y = year_number(tokens_[j]); y > 0) {
                    next = j + 1;
                    return make(i, j, day_of(y, m, 1), DateGranularity::kMonth, true);
                }
                const int d = day_number(tokens_[j], suffixed);
                if (d > 0) return finish_day(i, j, m, d, next);
            }
            return std::nullopt;
        }
        const int d = day_number(tokens_[i], suffixed);
        if (d <= 0) return std::nullopt;
        std::size_t j = i + 1;
        if (w(j) == "of" && joined(j)) ++j;
        if (!joined(j) || month_at(j) == 0) return std::nullopt;
        if (!suffixed && j != i + 1) return std::nullopt;  // "5 of May" is not a date
        return finish_day(i, j, month_at(j), d, next);
    }

    // A day-month date whose last token so far is `last`: takes an optional year after it.
    std::optional<DateMention> finish_day(std::size_t first, std::size_t last, int m, int d, std::size_t& next) const {
        const std::size_t y_at = last + 1;
        if (y_at < tokens_.size() && (joined(y_at) || joined(y_at, ','))) {
            if (const int y = year_number(tokens_[y_at]); y > 0) {
                if (d > days_in_month(y, m)) return std::nullopt;
                next = y_at + 1;
                return make(first, y_at, day_of(y, m, d), DateGranularity::kDay, true);
            }
        }
        const bool past = past_at(first) || (first > 0 && w(first - 1) == "since");
        const auto day = month_day(m, d, past);
        if (!day) return std::nullopt;
        next = last + 1;
        return make(first, last, *day, DateGranularity::kDay, false);
    }

    // in|since|during|early|mid|late|of|until|by|around <Month> [<year>] | in|since|during|of <year>.
    std::optional<DateMention> match_prefixed_month_or_year(std::size_t i, std::size_t& next) const {
        const std::size_t j = i + 1;
        if (!(joined(j) || joined(j, '-'))) return std::nullopt;
        std::string_view t = w(i);
        if (const int m = month_at(j); m > 0) {
            if (followed_by_day(j + 1)) return std::nullopt;  // "in May 5th": the month-day rule takes it
            if (j + 1 < tokens_.size() && joined(j + 1)) {
                if (const int y = year_number(tokens_[j + 1]); y > 0) {
                    next = j + 2;
                    return make(i, j + 1, day_of(y, m, 1), DateGranularity::kMonth, true);
                }
            }
            const bool past = past_at(i) || t == "since";
            long long y = year_;
            if (past && m > month_) --y;
            if (!past && m < month_) ++y;
            next = j + 1;
            return make(i, j, day_of(y, m, 1), DateGranularity::kMonth, false);
        }
        if (t == "in" || t == "since" || t == "during" || t == "of") {
            if (const int y = year_number(tokens_[j]); y > 0 && joined(j)) {
                // "in 2000 steps", "out of 2000 people": a number before a lower-case noun is a quantity.
                if (j + 1 < tokens_.size() && joined(j + 1) && !tokens_[j + 1].capitalized &&
                    !tokens_[j + 1].has_digit && index_in(kAfterYear, tokens_[j + 1].lower) < 0) {
                    return std::nullopt;
                }
                next = j + 1;
                return make(i, j, day_of(y, 1, 1), DateGranularity::kYear, true);
            }
        }
        return std::nullopt;
    }

    std::string_view text_;
    const std::vector<WordToken>& tokens_;
    long long today_;
    long long year_ = 1970;
    int month_ = 1;
    mutable std::unordered_map<std::size_t, bool> past_by_sentence_;  // first token of a sentence -> past tense
};

}  // namespace

std::vector<DateMention> RelativeDateResolver::resolve(std::string_view text, TimeMs conv_time) {
    const std::vector<WordToken> tokens = WordTokenizer::tokenize(text);
    return Scanner(text, tokens, conv_time).run();
}

std::vector<DateMention> RelativeDateResolver::resolve(std::string_view text, const std::vector<WordToken>& tokens,
                                                       TimeMs conv_time) {
    return Scanner(text, tokens, conv_time).run();
}

std::string RelativeDateResolver::label(const DateMention& mention) {
    const Civil c = civil_from_days(floor_div(mention.day, kMsPerDay));
    char buf[48];
    switch (mention.granularity) {
        case DateGranularity::kDay:
            std::snprintf(buf, sizeof buf, "%04lld-%02d-%02d", c.year, c.month, c.day);
            break;
        case DateGranularity::kWeek:
            std::snprintf(buf, sizeof buf, "week of %04lld-%02d-%02d", c.year, c.month, c.day);
            break;
        case DateGranularity::kWeekend:
            std::snprintf(buf, sizeof buf, "weekend of %04lld-%02d-%02d", c.year, c.month, c.day);
            break;
        case DateGranularity::kMonth:
            std::snprintf(buf, sizeof buf, "%04lld-%02d", c.year, c.month);
            break;
        case DateGranularity::kYear:
            std::snprintf(buf, sizeof buf, "%04lld", c.year);
            break;
    }
    return buf;
}

std::string RelativeDateResolver::annotate(std::string_view text, const std::vector<DateMention>& mentions) {
    std::string out;
    out.reserve(text.size() + mentions.size() * 16);
    std::size_t pos = 0;
    for (const DateMention& m : mentions) {
        if (m.explicit_date || m.end < pos || m.end > text.size()) continue;
        out.append(text.substr(pos, m.end - pos));
        out.append(" (");
        out.append(label(m));
        out.push_back(')');
        pos = m.end;
    }
    out.append(text.substr(pos));
    return out;
}

}  // namespace kasten::memory
