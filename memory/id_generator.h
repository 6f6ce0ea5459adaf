#pragma once

#include <string>
#include <string_view>

namespace kasten::memory {

// Generates store ids: prefix + 16 lower-case hex digits from a 64-bit random number ("t_3f9a…").
// Thread-safe. Collisions are astronomically unlikely and are caught by the store's primary keys anyway.
std::string generate_id(std::string_view prefix);

}  // namespace kasten::memory
