#include "memory/llm_reply.h"

#include <algorithm>
#include <utility>

#include <nlohmann/json.hpp>

namespace kasten::memory {
namespace {

using Json = nlohmann::json;

bool is_space(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

bool is_continuation_byte(char c) {
    return (static_cast<unsigned char>(c) & 0xC0) == 0x80;
}

}  // namespace

std::string_view trim(std::string_view s) {
    while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
    while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
    return s;
}

std::string one_line(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    bool pending_space = false;
    for (char c : trim(s)) {
        if (is_space(c)) {
            pending_space = true;
            continue;
        }
        if (pending_space) out.push_back(' ');
        pending_space = false;
        out.push_back(c);
    }
    return out;
}

std::string ascii_lower(std::string_view s) {
    std::string out(s);
    for (char& c : out) {
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    }
    return out;
}

std::string truncate_chars(std::string_view s, int max_chars, bool mark) {
    if (max_chars < 0) return std::string(s);
    int chars = 0;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (is_continuation_byte(s[i])) continue;
        if (chars == max_chars) return std::string(s.substr(0, i)) + (mark ? "\xE2\x80\xA6" : "");
        ++chars;
    }
    return std::string(s);
}

std::optional<Json> parse_reply_object(std::string_view text) {
    const std::size_t open = text.find('{');
    const std::size_t close = text.rfind('}');
    if (open == std::string_view::npos || close == std::string_view::npos || close <= open) return std::nullopt;
    Json reply(Json::value_t::discarded);
    try {
        reply = Json::parse(text.substr(open, close - open + 1), nullptr, /*allow_exceptions=*/false);
    } catch (const Json::exception&) {
        return std::nullopt;
    }
    if (!reply.is_object()) return std::nullopt;
    return reply;
}

const Json* member(const Json& object, const char* name) {
    if (!object.is_object()) return nullptr;
    const auto it = object.find(name);
    return it == object.end() ? nullptr : &*it;
}

std::string string_member(const Json& object, const char* name) {
    const Json* value = member(object, name);
    return value != nullptr && value->is_string() ? value->get<std::string>() : std::string();
}

std::vector<std::string> clean_labels(const Json* array, int max_count, int max_chars) {
    std::vector<std::string> out;
    if (array == nullptr || !array->is_array()) return out;
    for (const Json& item : *array) {
        if (static_cast<int>(out.size()) >= max_count) break;
        if (!item.is_string()) continue;
        std::string label = truncate_chars(ascii_lower(one_line(item.get_ref<const std::string&>())), max_chars);
        if (label.empty() || std::find(out.begin(), out.end(), label) != out.end()) continue;
        out.push_back(std::move(label));
    }
    return out;
}

}  // namespace kasten::memory
