#pragma once

#include <string_view>

#include "common/clock.h"
#include "common/result.h"

namespace kasten::eval {

// Parses a LoCoMo session time, "1:56 pm on 8 May, 2023" (also "10:04 AM on 19 June 2023": case-insensitive am/pm,
// optional comma, full or three-letter month names), into ms since the epoch, read as UTC. 12 am is 00:xx, 12 pm is
// 12:xx. kInvalidArgument naming the text for anything else, including impossible dates (31 April).
Result<TimeMs> parse_locomo_date_time(std::string_view text);

}  // namespace kasten::eval
