#include "api/cli/split_list.h"

namespace kasten::api {

std::vector<std::string> split_list(std::string_view text, char sep) {
    std::vector<std::string> out;
    while (true) {
        const std::size_t end = text.find(sep);
        std::string_view item = text.substr(0, end);
        const std::size_t b = item.find_first_not_of(' ');
        if (b != std::string_view::npos) {
            item = item.substr(b, item.find_last_not_of(' ') - b + 1);
            out.emplace_back(item);
        }
        if (end == std::string_view::npos) return out;
        text.remove_prefix(end + 1);
    }
}

}  // namespace kasten::api
