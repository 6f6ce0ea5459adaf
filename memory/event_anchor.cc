#include "memory/event_anchor.h"

#include <algorithm>
#include <array>
#include <cstdlib>
#include <string_view>

#include "memory/relative_date_resolver.h"
#include "memory/word_tokenizer.h"
#include "retrieval/lexical_index.h"

namespace kasten::memory {
namespace {

using namespace std::string_view_literals;

constexpr TimeMs kDayMs = 86'400'000;
constexpr std::size_t kMaxAnchorWords = 8;
// Each event anchor costs a search: a query (up to 4,096 characters) names at most this many.
constexpr std::size_t kMaxAnchors = 4;

constexpr std::array kNumberWords = {"zero"sv,     "one"sv,      "two"sv,      "three"sv,   "four"sv,    "five"sv,
                                     "six"sv,      "seven"sv,    "eight"sv,    "nine"sv,    "ten"sv,     "eleven"sv,
                                     "twelve"sv,   "thirteen"sv, "fourteen"sv, "fifteen"sv, "sixteen"sv, "seventeen"sv,
                                     "eighteen"sv, "nineteen"sv, "twenty"sv};

// Words that end an anchor phrase: connectives, and auxiliaries that start the main clause after a fronted phrase.
constexpr std::array kClauseEnds = {"before"sv, "after"sv, "since"sv,  "and"sv,  "or"sv,    "but"sv,   "when"sv,
                                    "while"sv,  "did"sv,   "do"sv,     "does"sv, "was"sv,   "were"sv,  "is"sv,
                                    "are"sv,    "has"sv,   "have"sv,   "had"sv,  "will"sv,  "would"sv, "could"sv,
                                    "should"sv, "can"sv,   "didn't"sv, "that"sv, "which"sv, "until"sv, "than"sv};

template <std::size_t N>
bool one_of(const std::string& w, const std::array<std::string_view, N>& list) {
    return std::find(list.begin(), list.end(), w) != list.end();
}

std::optional<int> count_of(const std::string& w) {
    if (w == "a" || w == "an") return 1;
    for (std::size_t i = 1; i < kNumberWords.size(); ++i) {
        if (w == kNumberWords[i]) return static_cast<int>(i);
    }
    if (!w.empty() && w.size() <= 3 && std::all_of(w.begin(), w.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        const int n = std::atoi(w.c_str());
        if (n > 0) return n;
    }
    return std::nullopt;
}

// Days in one `unit` ("day", "weeks", ...); 0 when not a unit.
int unit_days(const std::string& w) {
    if (w == "day" || w == "days") return 1;
    if (w == "week" || w == "weeks") return 7;
    if (w == "fortnight") return 14;
    if (w == "month" || w == "months") return 30;
    if (w == "year" || w == "years") return 365;
    return 0;
}

// Whether `text` is only separators (spaces), so two tokens around it are in the same clause.
bool joins(std::string_view text) {
    return std::all_of(text.begin(), text.end(), [](char c) { return c == ' ' || c == '\t'; });
}

// The distance the words before token `c` name: sets offset_days and period.
void read_distance(const std::vector<WordToken>& t, std::size_t c, EventAnchor& a) {
    if (c == 0) return;
    const std::string& prev = t[c - 1].lower;
    if (prev == "weekend" && c >= 2 && (t[c - 2].lower == "the" || t[c - 2].lower == "last")) {
        a.offset_days = 1;
        a.period = true;
        return;
    }
    const int days = unit_days(prev);
    if (days == 0 || c < 2) return;
    const std::string& before = t[c - 2].lower;
    if (before == "the") {
        a.offset_days = days;
        a.period = days > 1;  // "the day before" is a day; "the week before" a span
        return;
    }
    std::optional<int> n = count_of(before);
    if (!n && before == "of" && c >= 3 && t[c - 3].lower == "couple") n = 2;
    if (n) a.offset_days = *n * days;
}

}  // namespace

std::vector<EventAnchor> find_event_anchors(std::string_view query, TimeMs query_time) {
    const std::vector<WordToken> t = WordTokenizer::tokenize(query);
    const std::vector<DateMention> dates = RelativeDateResolver::resolve(query, t, query_time);
    std::vector<EventAnchor> out;
    for (std::size_t c = 0; c < t.size() && out.size() < kMaxAnchors; ++c) {
        EventAnchor a;
        std::size_t first = c + 1;  // first word of the anchor phrase
        if (t[c].lower == "before") {
            a.relation = AnchorRelation::kBefore;
        } else if (t[c].lower == "after" || t[c].lower == "following") {
            a.relation = AnchorRelation::kAfter;
        } else if (t[c].lower == "since") {
            a.relation = AnchorRelation::kSince;
        } else if (t[c].lower == "prior" && c + 1 < t.size() && t[c + 1].lower == "to") {
            a.relation = AnchorRelation::kBefore;
            first = c + 2;
        } else {
            continue;
        }
        if (first >= t.size() || !joins(query.substr(t[first - 1].end, t[first].begin - t[first - 1].end))) continue;
        read_distance(t, c, a);
        if (a.relation == AnchorRelation::kSince) a.offset_days = 0;
        if (a.relation == AnchorRelation::kBefore && a.offset_days == 0) continue;
        // A date right after the connective anchors by itself.
        const auto date =
            std::find_if(dates.begin(), dates.end(), [&](const DateMention& m) { return m.begin == t[first].begin; });
        if (date != dates.end()) {
            a.date = date->day;
            out.push_back(std::move(a));
            continue;
        }
        std::size_t last = first;  // one past the phrase's last word
        while (last < t.size() && last - first < kMaxAnchorWords) {
            if (last > first && (!joins(query.substr(t[last - 1].end, t[last].begin - t[last - 1].end)) ||
                                 one_of(t[last].lower, kClauseEnds))) {
                break;
            }
            ++last;
        }
        a.event = std::string(query.substr(t[first].begin, t[last - 1].end - t[first].begin));
        if (one_of(t[first].lower, kClauseEnds) || retrieval::LexicalIndex::analyze(a.event).empty()) continue;
        out.push_back(std::move(a));
    }
    return out;
}

std::optional<TimeWindow> anchored_window(const EventAnchor& a, TimeMs anchor_time, TimeMs query_time) {
    const TimeMs day = anchor_time - ((anchor_time % kDayMs) + kDayMs) % kDayMs;
    const TimeMs distance = static_cast<TimeMs>(a.offset_days) * kDayMs;
    const TimeMs sign = a.relation == AnchorRelation::kBefore ? -1 : 1;
    TimeWindow w;
    if (a.relation == AnchorRelation::kSince) {
        w = {day, query_time};
    } else if (a.offset_days == 0) {  // after X
        w = {day, day + 8 * kDayMs - 1};
    } else if (a.period) {
        w = sign < 0 ? TimeWindow{day - 7 * kDayMs, day + kDayMs - 1} : TimeWindow{day, day + 8 * kDayMs - 1};
    } else {
        const TimeMs target = day + sign * distance;
        const TimeMs tolerance = std::max<TimeMs>(kDayMs, distance / 4);
        w = {target - tolerance, target + kDayMs - 1 + tolerance};
    }
    if (w.to < w.from) return std::nullopt;
    return w;
}

std::vector<TimeWindow> event_anchored_windows(
    std::string_view query, TimeMs query_time, double weight,
    const std::function<std::optional<TimeMs>(const std::string& event)>& event_time) {
    std::vector<TimeWindow> out;
    for (const EventAnchor& a : find_event_anchors(query, query_time)) {
        const std::optional<TimeMs> at = a.date ? a.date : event_time(a.event);
        if (!at) continue;
        if (auto w = anchored_window(a, *at, query_time)) {
            w->weight = weight;
            out.push_back(*w);
        }
    }
    return out;
}

}  // namespace kasten::memory
