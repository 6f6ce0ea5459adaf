#pragma once

#include <fmt/format.h>

#include <string>
#include <string_view>
#include <utility>

namespace kasten::log {

enum class Level { kDebug, kInfo, kWarn, kError, kOff };

// Parses "debug", "info", "warn", "error", "off"; returns false on anything else.
bool parse_level(std::string_view text, Level* out);
void set_level(Level level);
// Logs go to stderr. Thread-safe.
void write(Level level, std::string_view message);

template <typename... Args>
void debug(fmt::format_string<Args...> f, Args&&... args) {
    write(Level::kDebug, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
void info(fmt::format_string<Args...> f, Args&&... args) {
    write(Level::kInfo, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
void warn(fmt::format_string<Args...> f, Args&&... args) {
    write(Level::kWarn, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
void error(fmt::format_string<Args...> f, Args&&... args) {
    write(Level::kError, fmt::format(f, std::forward<Args>(args)...));
}

}  // namespace kasten::log
