#include "memory/query_time_windows.h"

#include <algorithm>
#include <cstdlib>

#include "memory/relative_date_resolver.h"

namespace kasten::memory {

namespace {

constexpr TimeMs kDayMs = 86'400'000;

// 00:00 UTC of the first day of the month after the one holding `day` (a month's first day).
TimeMs next_month(TimeMs day) {
    // Civil-from-days (Howard Hinnant's algorithm) on whole days.
    std::int64_t z = day / kDayMs + 719468;
    const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const std::int64_t doe = z - era * 146097;
    const std::int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    std::int64_t y = yoe + era * 400;
    const std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const std::int64_t mp = (5 * doy + 2) / 153;
    std::int64_t m = mp < 10 ? mp + 3 : mp - 9;
    if (m <= 2) ++y;
    // Next month.
    if (++m > 12) {
        m = 1;
        ++y;
    }
    // Days-from-civil.
    y -= m <= 2;
    const std::int64_t era2 = (y >= 0 ? y : y - 399) / 400;
    const std::int64_t yoe2 = y - era2 * 400;
    const std::int64_t doy2 = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5;
    const std::int64_t doe2 = yoe2 * 365 + yoe2 / 4 - yoe2 / 100 + doy2;
    return (era2 * 146097 + doe2 - 719468) * kDayMs;
}

}  // namespace

std::vector<TimeWindow> query_time_windows(std::string_view query, TimeMs query_time) {
    std::vector<TimeWindow> out;
    for (const DateMention& m : RelativeDateResolver::resolve(query, query_time)) {
        TimeWindow w;
        switch (m.granularity) {
            case DateGranularity::kDay: {
                const TimeMs distance = std::llabs(query_time - m.day);
                const TimeMs tolerance = std::max<TimeMs>(kDayMs, distance / 4);
                w = {m.day - tolerance, m.day + kDayMs - 1 + tolerance};
                break;
            }
            case DateGranularity::kWeek:
                w = {m.day - kDayMs, m.day + 8 * kDayMs - 1};
                break;
            case DateGranularity::kWeekend:
                w = {m.day - kDayMs, m.day + 3 * kDayMs - 1};
                break;
            case DateGranularity::kMonth:
                w = {m.day - 3 * kDayMs, next_month(m.day) + 3 * kDayMs - 1};
                break;
            case DateGranularity::kYear: {
                TimeMs end = m.day;
                for (int i = 0; i < 12; ++i) end = next_month(end);
                w = {m.day, end - 1};
                break;
            }
        }
        out.push_back(w);
    }
    return out;
}

}  // namespace kasten::memory
