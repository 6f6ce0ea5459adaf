#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace kasten::llm {

enum class JsonType {
    kObject,
    kArray,
    kString,
    kNumber,
    kInteger,
    kBoolean,
    kNull,
    kEnum,  // one of a fixed list of JSON values ("enum" or "const")
};

// One node of a parsed schema. Children are indices into JsonSchema::nodes().
struct JsonSchemaNode {
    struct Property {
        std::string name;
        std::string key_literal;  // the name as a JSON string, quotes included: "\"name\""
        int schema = -1;          // node index
        bool required = false;
    };

    JsonType type = JsonType::kNull;
    std::vector<Property> properties;  // kObject, in schema order
    int items = -1;                    // kArray: node index of the item schema
    int min_items = 0;                 // kArray
    int max_items = -1;                // kArray; -1: unbounded
    int min_length = 0;                // kString, in Unicode code points
    int max_length = -1;               // kString; -1: unbounded
    // kEnum: each value serialised as compact JSON; kBoolean: "true", "false"; kNull: "null". Sorted, unique.
    std::vector<std::string> literals;
    // Bytes of the shortest JSON text valid against this node.
    int min_bytes = 0;
};

// A JSON Schema subset for constrained decoding: "type" object (properties, required, additionalProperties
// false or absent), array (items, minItems, maxItems), string (minLength, maxLength), number, integer, boolean,
// null; "enum" and "const". Annotations (title, description, $schema, $id, default, examples, $comment) are
// ignored. Objects are generated with their properties in schema order, optional ones possibly left out.
// Immutable after parse(); safe to share between threads.
class JsonSchema {
  public:
    // kInvalidArgument for text that is not JSON or a malformed schema (wrong value types, a required name
    // that is not a property, min > max); kNotSupported for a keyword or type outside the subset, naming it.
    static Result<JsonSchema> parse(std::string_view text);

    const std::vector<JsonSchemaNode>& nodes() const { return nodes_; }
    const JsonSchemaNode& node(int index) const { return nodes_[static_cast<std::size_t>(index)]; }
    static constexpr int kRoot = 0;

  private:
    JsonSchema() = default;
    friend class JsonSchemaParser;

    std::vector<JsonSchemaNode> nodes_;
};

}  // namespace kasten::llm
