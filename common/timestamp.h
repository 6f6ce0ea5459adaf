#pragma once

#include <string>
#include <string_view>

#include "common/clock.h"
#include "common/result.h"

namespace kasten {

// Parses a point in time into ms since the epoch (UTC). Accepted forms:
//   ISO-8601: "2023-05-30", "2023-05-30T23:40", "2023-05-30 23:40:05", "2023-05-30T23:40:05.123Z",
//             with an optional "Z" or "+hh:mm"/"-hh:mm" offset (no offset = UTC);
//   LongMemEval: "2023/05/30 (Tue) 23:40" (the weekday is ignored);
//   an integer of ms since the epoch ("1685490000000").
// Anything else is kInvalidArgument, naming the text.
Result<TimeMs> parse_timestamp(std::string_view text);

// "2023-05-30T23:40:00Z", with ".123" before the Z when the ms part is not zero. Round-trips with parse_timestamp.
std::string format_timestamp(TimeMs t);

// Days since 1970-01-01 for a proleptic Gregorian date (month 1..12, day 1..31).
long long days_from_civil(int year, int month, int day);

}  // namespace kasten
