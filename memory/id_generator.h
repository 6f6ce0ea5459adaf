#pragma once

#include <string>
#include <string_view>

namespace kasten::memory {

// Generates store ids: prefix + 16 lower-case hex digits ("t_018c3f9a2b7e41d3").
// The digits are time-ordered (44 bits of milliseconds since the epoch, then a 20-bit counter that starts at a
// random value per process), so ids made later sort later and new rows append at the right edge of the store's
// B-tree indexes instead of dirtying a random page per insert. Unique within a process; across processes a clash
// needs the same millisecond and counter value, and is caught by the store's primary keys anyway. Thread-safe.
std::string generate_id(std::string_view prefix);

}  // namespace kasten::memory
