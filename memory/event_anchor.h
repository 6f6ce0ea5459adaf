#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "memory/query_time_windows.h"

namespace kasten::memory {

// Times a query names relative to an event or a date rather than to when it is asked: "two weeks before my trip",
// "the day after the concert", "since I started the new job", "the week before August 3, 2023".
enum class AnchorRelation { kBefore, kAfter, kSince };

struct EventAnchor {
    AnchorRelation relation = AnchorRelation::kAfter;
    // The distance named before the connective, in days ("two weeks before" = 14, "the day after" = 1); 0 when none.
    int offset_days = 0;
    // The distance names a period ("the week before", "the weekend after") rather than a point: the window spans it.
    bool period = false;
    // The anchor: an event phrase to look up ("my trip", "I started the new job")...
    std::string event;
    // ...or a date the query names ("August 3, 2023"): 00:00 UTC of its first day (RelativeDateResolver, resolved
    // against the query time). When set, `event` is empty.
    std::optional<TimeMs> date;
};

// The anchors of `query`, in text order: a connective (before, after, since, prior to) followed by its anchor phrase,
// which runs to the end of the clause (punctuation, another connective, or an auxiliary that starts the main clause:
// "How many days before my friend's party did I order the gift?" -> "my friend's party"), at most 8 words. The
// distance before the connective: "N days|weeks|months|years" (N as RelativeDateResolver counts: digits, one..twenty,
// a/an, a couple of), "the day|night", "the week|weekend", "the month" or "last weekend". A bare "before X" (all of
// the past up to X) names no window and is skipped, as is an anchor phrase without an index term. At most the first
// 4 anchors (each event anchor costs a search). Pure.
std::vector<EventAnchor> find_event_anchors(std::string_view query, TimeMs query_time);

// The stretch of world time `anchor` names when its event (or date) is at `anchor_time`, its day 00:00 UTC onwards:
//   N days/weeks/... before|after: the day that far from the anchor's day, ± max(1 day, a quarter of the distance)
//     (as query_time_windows counts "N days ago");
//   the week/weekend before|after: the 8 days on that side, the anchor's day included;
//   the day before|after: that day ± 1 day;  after X (no distance): the anchor's day and the 7 days after it;
//   since X: from the anchor's day to the query time.
// nullopt when the window would be empty (since an event after the query time).
std::optional<TimeWindow> anchored_window(const EventAnchor& anchor, TimeMs anchor_time, TimeMs query_time);

// The windows of all of `query`'s anchors: date anchors directly, event anchors at the time `event_time` gives their
// phrase (nullopt: not found, no window). Each window's weight is `weight`.
std::vector<TimeWindow> event_anchored_windows(
    std::string_view query, TimeMs query_time, double weight,
    const std::function<std::optional<TimeMs>(const std::string& event)>& event_time);

}  // namespace kasten::memory
