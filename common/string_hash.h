#pragma once

#include <cstddef>
#include <functional>
#include <string_view>

namespace kasten {

// A hash for unordered containers keyed by std::string that are looked up by std::string_view (or a literal) without
// building a string: use with std::equal_to<> as the key equality.
struct StringHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};

}  // namespace kasten
