#pragma once

#include <string_view>
#include <vector>

#include "common/clock.h"

namespace kasten::memory {

// A stretch of world time a query refers to, [from, to] inclusive, in ms since the epoch (UTC).
struct TimeWindow {
    TimeMs from = 0;
    TimeMs to = 0;
    // Multiplies the temporal boost of the units inside (MemoryOptions::temporal_weight): 1 for a time the query
    // names, MemoryOptions::event_anchor_weight for one relative to an event (memory/event_anchor.h).
    double weight = 1.0;
};

// The time windows a query names ("what did I cook a couple of days ago", "the concert last Saturday", "in March"),
// resolved against `query_time` (when the question is asked) with RelativeDateResolver. Each mention's period is
// widened by a tolerance, because people count days loosely: one day, or a quarter of the distance from the query
// time for a single day ("two weeks ago" = 14 ± 3.5 days), one day for weeks and weekends, three days for months,
// none for years. Explicit dates count too. Empty when the query names no time. Pure and thread-safe.
std::vector<TimeWindow> query_time_windows(std::string_view query, TimeMs query_time);

}  // namespace kasten::memory
