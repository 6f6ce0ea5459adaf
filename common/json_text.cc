#include "common/json_text.h"

#include <algorithm>
#include <set>
#include <string>
#include <vector>

namespace kasten {

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
Result<Json> parse_json_text(std::string_view text, std::string_view what, int max_depth) {
    const std::string label(what);
    if (text.size() >= 3 && static_cast<unsigned char>(text[0]) == 0xEF &&
        static_cast<unsigned char>(text[1]) == 0xBB && static_cast<unsigned char>(text[2]) == 0xBF) {
        return Status::invalid_argument(label + " starts with a byte order mark; send UTF-8 JSON without one");
    }
    if (json_nesting_depth(text) > max_depth) {
        return Status::invalid_argument(label + " nests deeper than " + std::to_string(max_depth) + " levels");
    }
    // One key set per open object; a key seen twice in the same object is remembered and refused after the parse
    // (the parser's callback cannot stop it).
    std::vector<std::set<std::string>> open_objects;
    std::string repeated_key;
    bool repeated = false;
    auto callback = [&](int /*depth*/, nlohmann::json::parse_event_t event, Json& parsed) {
        switch (event) {
            case nlohmann::json::parse_event_t::object_start:
                open_objects.emplace_back();
                break;
            case nlohmann::json::parse_event_t::object_end:
                if (!open_objects.empty()) open_objects.pop_back();
                break;
            case nlohmann::json::parse_event_t::key:
                if (!repeated && !open_objects.empty() && parsed.is_string() &&
                    !open_objects.back().insert(parsed.template get<std::string>()).second) {
                    repeated = true;
                    repeated_key = parsed.template get<std::string>();
                }
                break;
            default:
                break;
        }
        return true;
    };
    Json j;
    try {
        j = Json::parse(text.begin(), text.end(), callback);
    } catch (const nlohmann::json::parse_error& e) {
        const std::string message = e.what();
        // nlohmann reports ill-formed UTF-8 as a parse error; say so plainly.
        if (message.find("UTF-8") != std::string::npos || message.find("utf-8") != std::string::npos) {
            return Status::invalid_argument(label + " is not valid UTF-8: " + message);
        }
        return Status::invalid_argument(label + " is not valid JSON: " + message);
    } catch (const nlohmann::json::exception& e) {
        return Status::invalid_argument(label + " is not valid JSON: " + e.what());
    }
    if (repeated) {
        std::string shown = repeated_key.substr(0, 64);
        return Status::invalid_argument(label + " has the key '" + shown + "' twice in one object");
    }
    return j;
}

template Result<nlohmann::json> parse_json_text<nlohmann::json>(std::string_view, std::string_view, int);
template Result<nlohmann::ordered_json> parse_json_text<nlohmann::ordered_json>(std::string_view, std::string_view,
                                                                                int);

}  // namespace kasten
