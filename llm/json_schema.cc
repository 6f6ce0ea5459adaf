#include "llm/json_schema.h"

#include <algorithm>
#include <set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace kasten::llm {

// ordered_json keeps object keys in the order of the text: properties are generated in schema order.
using json = nlohmann::ordered_json;

namespace {

constexpr int kMaxDepth = 32;

bool is_annotation(const std::string& key) {
    static const std::set<std::string> kAnnotations = {"title",   "description", "$schema", "$id",
                                                       "default", "examples",    "$comment"};
    return kAnnotations.count(key) > 0;
}

Result<JsonType> type_of(const json& schema, const std::string& where) {
    if (schema.contains("enum") || schema.contains("const")) return JsonType::kEnum;
    if (!schema.contains("type")) {
        return Status::not_supported(fmt::format("{}: a schema without \"type\", \"enum\" or \"const\"", where));
    }
    const json& t = schema["type"];
    if (!t.is_string()) {
        return Status::not_supported(fmt::format("{}: \"type\" must be a single type name", where));
    }
    const std::string name = t.get<std::string>();
    if (name == "object") return JsonType::kObject;
    if (name == "array") return JsonType::kArray;
    if (name == "string") return JsonType::kString;
    if (name == "number") return JsonType::kNumber;
    if (name == "integer") return JsonType::kInteger;
    if (name == "boolean") return JsonType::kBoolean;
    if (name == "null") return JsonType::kNull;
    return Status::invalid_argument(fmt::format("{}: unknown type \"{}\"", where, name));
}

Result<int> non_negative(const json& schema, const char* key, int fallback, const std::string& where) {
    if (!schema.contains(key)) return fallback;
    const json& v = schema[key];
    if (!v.is_number_integer() || v.get<std::int64_t>() < 0 || v.get<std::int64_t>() > 1'000'000) {
        return Status::invalid_argument(fmt::format("{}: \"{}\" must be an integer in [0, 1000000]", where, key));
    }
    return static_cast<int>(v.get<std::int64_t>());
}

}  // namespace

// Builds the node list of a JsonSchema from parsed JSON; the only code that touches nlohmann::json values.
class JsonSchemaParser {
  public:
    static Result<JsonSchema> parse(std::string_view text) {
        JsonSchemaParser p;
        json root;
        try {
            root = json::parse(text.begin(), text.end());
        } catch (const json::exception& e) {
            return Status::invalid_argument(std::string("the JSON schema is not valid JSON: ") + e.what());
        }
        try {
            KASTEN_ASSIGN_OR_RETURN(const int index, p.add(root, "schema", 0));
            (void)index;  // the root is node 0
        } catch (const json::exception& e) {
            return Status::invalid_argument(std::string("malformed JSON schema: ") + e.what());
        }
        return std::move(p.schema_);
    }

  private:
    Result<int> add(const json& schema, const std::string& where, int depth) {
        if (depth > kMaxDepth) return Status::not_supported(fmt::format("{}: nested deeper than {}", where, kMaxDepth));
        if (!schema.is_object()) return Status::invalid_argument(fmt::format("{}: a schema must be an object", where));
        KASTEN_ASSIGN_OR_RETURN(const JsonType type, type_of(schema, where));
        const int index = static_cast<int>(schema_.nodes_.size());
        schema_.nodes_.emplace_back();
        JsonSchemaNode node;
        node.type = type;

        std::set<std::string> allowed = {"type"};
        switch (type) {
            case JsonType::kObject:
                allowed.insert({"properties", "required", "additionalProperties"});
                break;
            case JsonType::kArray:
                allowed.insert({"items", "minItems", "maxItems"});
                break;
            case JsonType::kString:
                allowed.insert({"minLength", "maxLength"});
                break;
            case JsonType::kEnum:
                allowed.insert({"enum", "const"});
                break;
            default:
                break;
        }
        for (const auto& [key, value] : schema.items()) {
            if (!allowed.count(key) && !is_annotation(key)) {
                return Status::not_supported(fmt::format("{}: keyword \"{}\" is not supported", where, key));
            }
        }

        switch (type) {
            case JsonType::kObject: {
                if (schema.contains("additionalProperties") && schema["additionalProperties"] != json(false)) {
                    return Status::not_supported(
                        fmt::format("{}: only \"additionalProperties\": false is supported", where));
                }
                if (schema.contains("properties")) {
                    const json& props = schema["properties"];
                    if (!props.is_object()) {
                        return Status::invalid_argument(fmt::format("{}: \"properties\" must be an object", where));
                    }
                    for (const auto& [name, sub] : props.items()) {
                        JsonSchemaNode::Property p;
                        p.name = name;
                        p.key_literal = json(name).dump(-1, ' ', false, json::error_handler_t::strict);
                        KASTEN_ASSIGN_OR_RETURN(p.schema, add(sub, where + "." + name, depth + 1));
                        node.properties.push_back(std::move(p));
                    }
                }
                if (schema.contains("required")) {
                    const json& req = schema["required"];
                    if (!req.is_array()) {
                        return Status::invalid_argument(fmt::format("{}: \"required\" must be an array", where));
                    }
                    for (const json& r : req) {
                        if (!r.is_string()) {
                            return Status::invalid_argument(
                                fmt::format("{}: \"required\" must hold property names", where));
                        }
                        auto it = std::find_if(node.properties.begin(), node.properties.end(),
                                               [&](const auto& p) { return p.name == r.get<std::string>(); });
                        if (it == node.properties.end()) {
                            return Status::invalid_argument(fmt::format(
                                "{}: required property \"{}\" is not in \"properties\"", where, r.get<std::string>()));
                        }
                        it->required = true;
                    }
                }
                break;
            }
            case JsonType::kArray: {
                if (!schema.contains("items")) {
                    return Status::not_supported(fmt::format("{}: an array needs an \"items\" schema", where));
                }
                KASTEN_ASSIGN_OR_RETURN(node.items, add(schema["items"], where + "[]", depth + 1));
                KASTEN_ASSIGN_OR_RETURN(node.min_items, non_negative(schema, "minItems", 0, where));
                KASTEN_ASSIGN_OR_RETURN(node.max_items, non_negative(schema, "maxItems", -1, where));
                if (node.max_items >= 0 && node.max_items < node.min_items) {
                    return Status::invalid_argument(fmt::format("{}: maxItems < minItems", where));
                }
                break;
            }
            case JsonType::kString: {
                KASTEN_ASSIGN_OR_RETURN(node.min_length, non_negative(schema, "minLength", 0, where));
                KASTEN_ASSIGN_OR_RETURN(node.max_length, non_negative(schema, "maxLength", -1, where));
                if (node.max_length >= 0 && node.max_length < node.min_length) {
                    return Status::invalid_argument(fmt::format("{}: maxLength < minLength", where));
                }
                break;
            }
            case JsonType::kEnum: {
                if (schema.contains("enum") && schema.contains("const")) {
                    return Status::not_supported(fmt::format("{}: both \"enum\" and \"const\"", where));
                }
                std::vector<json> values;
                if (schema.contains("const")) {
                    values.push_back(schema["const"]);
                } else {
                    const json& e = schema["enum"];
                    if (!e.is_array() || e.empty()) {
                        return Status::invalid_argument(fmt::format("{}: \"enum\" must be a non-empty array", where));
                    }
                    values.assign(e.begin(), e.end());
                }
                for (const json& v : values) {
                    if (v.is_object() || v.is_array()) {
                        return Status::not_supported(
                            fmt::format("{}: only strings, numbers, booleans and null in \"enum\"/\"const\"", where));
                    }
                    node.literals.push_back(v.dump(-1, ' ', false, json::error_handler_t::strict));
                }
                break;
            }
            case JsonType::kBoolean:
                node.literals = {"false", "true"};
                break;
            case JsonType::kNull:
                node.literals = {"null"};
                break;
            default:
                break;
        }
        std::sort(node.literals.begin(), node.literals.end());
        node.literals.erase(std::unique(node.literals.begin(), node.literals.end()), node.literals.end());
        node.min_bytes = min_bytes_of(node);
        schema_.nodes_[static_cast<std::size_t>(index)] = std::move(node);
        return index;
    }

    int min_bytes_of(const JsonSchemaNode& node) const {
        switch (node.type) {
            case JsonType::kObject: {
                int bytes = 2;
                int n_required = 0;
                for (const auto& p : node.properties) {
                    if (!p.required) continue;
                    bytes += static_cast<int>(p.key_literal.size()) + 1 + schema_.node(p.schema).min_bytes;
                    ++n_required;
                }
                return bytes + std::max(n_required - 1, 0);
            }
            case JsonType::kArray:
                return 2 + node.min_items * schema_.node(node.items).min_bytes + std::max(node.min_items - 1, 0);
            case JsonType::kString:
                return 2 + node.min_length;
            case JsonType::kNumber:
            case JsonType::kInteger:
                return 1;
            default: {
                std::size_t shortest = node.literals.front().size();
                for (const std::string& l : node.literals) shortest = std::min(shortest, l.size());
                return static_cast<int>(shortest);
            }
        }
    }

    JsonSchema schema_;
};

Result<JsonSchema> JsonSchema::parse(std::string_view text) {
    return JsonSchemaParser::parse(text);
}

}  // namespace kasten::llm
