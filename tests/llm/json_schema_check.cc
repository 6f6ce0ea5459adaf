#include "json_schema_check.h"

#include <nlohmann/json.hpp>

namespace kasten::llm::testing {
namespace {

using json = nlohmann::ordered_json;

std::size_t code_points(const std::string& s) {
    std::size_t n = 0;
    for (char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
    return n;
}

std::string check(const JsonSchema& schema, int index, const json& v) {
    const JsonSchemaNode& node = schema.node(index);
    switch (node.type) {
        case JsonType::kObject: {
            if (!v.is_object()) return "not an object: " + v.dump();
            std::size_t next = 0;
            for (const auto& [key, value] : v.items()) {
                while (next < node.properties.size() && node.properties[next].name != key) {
                    if (node.properties[next].required) return "missing required " + node.properties[next].name;
                    ++next;
                }
                if (next == node.properties.size()) return "unexpected or out-of-order key " + key;
                std::string e = check(schema, node.properties[next].schema, value);
                if (!e.empty()) return key + ": " + e;
                ++next;
            }
            for (; next < node.properties.size(); ++next) {
                if (node.properties[next].required) return "missing required " + node.properties[next].name;
            }
            return "";
        }
        case JsonType::kArray: {
            if (!v.is_array()) return "not an array: " + v.dump();
            if (static_cast<int>(v.size()) < node.min_items) return "too few items";
            if (node.max_items >= 0 && static_cast<int>(v.size()) > node.max_items) return "too many items";
            for (const json& item : v) {
                std::string e = check(schema, node.items, item);
                if (!e.empty()) return "item: " + e;
            }
            return "";
        }
        case JsonType::kString: {
            if (!v.is_string()) return "not a string: " + v.dump();
            const std::size_t n = code_points(v.get<std::string>());
            if (static_cast<int>(n) < node.min_length) return "string too short";
            if (node.max_length >= 0 && static_cast<int>(n) > node.max_length) return "string too long";
            return "";
        }
        case JsonType::kNumber:
            return v.is_number() ? "" : "not a number: " + v.dump();
        case JsonType::kInteger:
            return v.is_number_integer() ? "" : "not an integer: " + v.dump();
        case JsonType::kBoolean:
            return v.is_boolean() ? "" : "not a boolean: " + v.dump();
        case JsonType::kNull:
            return v.is_null() ? "" : "not null: " + v.dump();
        case JsonType::kEnum:
            for (const std::string& lit : node.literals) {
                if (json::parse(lit) == v) return "";
            }
            return "not in enum: " + v.dump();
    }
    return "unknown node type";
}

}  // namespace

std::string check_json(const JsonSchema& schema, std::string_view text) {
    json v;
    try {
        v = json::parse(text.begin(), text.end());
    } catch (const json::exception& e) {
        return std::string("does not parse: ") + e.what();
    }
    return check(schema, JsonSchema::kRoot, v);
}

}  // namespace kasten::llm::testing
