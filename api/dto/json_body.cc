#include "api/dto/json_body.h"

#include <algorithm>
#include <string>

namespace kasten::api {

int json_nesting_depth(std::string_view text) {
    int depth = 0, max_depth = 0;
    bool in_string = false, escaped = false;
    for (char c : text) {
        if (in_string) {
            if (escaped) {
                escaped = false;
            } else if (c == '\\') {
                escaped = true;
            } else if (c == '"') {
                in_string = false;
            }
            continue;
        }
        if (c == '"') {
            in_string = true;
        } else if (c == '[' || c == '{') {
            max_depth = std::max(max_depth, ++depth);
        } else if (c == ']' || c == '}') {
            --depth;
        }
    }
    return max_depth;
}

template <class Json>
Result<Json> parse_json_object(std::string_view body) {
    if (body.find_first_not_of(" \t\r\n") == std::string_view::npos) {
        return Status::invalid_argument("the request body is empty; expected a JSON object");
    }
    if (json_nesting_depth(body) > kMaxJsonDepth) {
        return Status::invalid_argument("the request body nests deeper than " + std::to_string(kMaxJsonDepth) +
                                        " levels");
    }
    Json j;
    try {
        j = Json::parse(body.begin(), body.end());
    } catch (const nlohmann::json::parse_error& e) {
        const std::string what = e.what();
        // nlohmann reports ill-formed UTF-8 as a parse error; say so plainly.
        if (what.find("UTF-8") != std::string::npos || what.find("utf-8") != std::string::npos) {
            return Status::invalid_argument("the request body is not valid UTF-8: " + what);
        }
        return Status::invalid_argument("the request body is not valid JSON: " + what);
    } catch (const nlohmann::json::exception& e) {
        // A number too large for a double (1e400) is out_of_range, not a parse_error.
        return Status::invalid_argument(std::string("the request body is not valid JSON: ") + e.what());
    }
    if (!j.is_object()) return Status::invalid_argument("the request body must be a JSON object");
    return j;
}

template Result<nlohmann::json> parse_json_object<nlohmann::json>(std::string_view body);
template Result<nlohmann::ordered_json> parse_json_object<nlohmann::ordered_json>(std::string_view body);

}  // namespace kasten::api
