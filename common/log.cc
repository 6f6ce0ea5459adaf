#include "common/log.h"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

namespace kasten::log {
namespace {

spdlog::logger& logger() {
    static std::shared_ptr<spdlog::logger> instance = [] {
        auto l = spdlog::stderr_color_mt("kasten");
        l->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");
        l->set_level(spdlog::level::info);
        return l;
    }();
    return *instance;
}

spdlog::level::level_enum to_spdlog(Level level) {
    switch (level) {
        case Level::kDebug:
            return spdlog::level::debug;
        case Level::kInfo:
            return spdlog::level::info;
        case Level::kWarn:
            return spdlog::level::warn;
        case Level::kError:
            return spdlog::level::err;
        case Level::kOff:
            return spdlog::level::off;
    }
    return spdlog::level::info;
}

}  // namespace

bool parse_level(std::string_view text, Level* out) {
    if (text == "debug")
        *out = Level::kDebug;
    else if (text == "info")
        *out = Level::kInfo;
    else if (text == "warn" || text == "warning")
        *out = Level::kWarn;
    else if (text == "error")
        *out = Level::kError;
    else if (text == "off")
        *out = Level::kOff;
    else
        return false;
    return true;
}

void set_level(Level level) {
    logger().set_level(to_spdlog(level));
}

void write(Level level, std::string_view message) {
    logger().log(to_spdlog(level), message);
}

}  // namespace kasten::log
