#include "llm/gguf_value.h"

#include <limits>

namespace kasten::llm {

std::string_view gguf_value_type_name(GgufValueType type) {
    switch (type) {
        case GgufValueType::kU8:
            return "u8";
        case GgufValueType::kI8:
            return "i8";
        case GgufValueType::kU16:
            return "u16";
        case GgufValueType::kI16:
            return "i16";
        case GgufValueType::kU32:
            return "u32";
        case GgufValueType::kI32:
            return "i32";
        case GgufValueType::kF32:
            return "f32";
        case GgufValueType::kBool:
            return "bool";
        case GgufValueType::kString:
            return "string";
        case GgufValueType::kArray:
            return "array";
        case GgufValueType::kU64:
            return "u64";
        case GgufValueType::kI64:
            return "i64";
        case GgufValueType::kF64:
            return "f64";
    }
    return "unknown";
}

bool is_valid_gguf_value_type(std::uint32_t id) {
    return id <= static_cast<std::uint32_t>(GgufValueType::kF64);
}

GgufValue GgufValue::array(GgufValueType element_type, Array items) {
    GgufValue v(GgufValueType::kArray, std::move(items));
    v.element_type_ = element_type;
    return v;
}

GgufValue GgufValue::string_array(const std::vector<std::string>& items) {
    Array a;
    a.reserve(items.size());
    for (const std::string& s : items) a.push_back(string(s));
    return array(GgufValueType::kString, std::move(a));
}

GgufValue GgufValue::f32_array(const std::vector<float>& items) {
    Array a;
    a.reserve(items.size());
    for (float f : items) a.push_back(f32(f));
    return array(GgufValueType::kF32, std::move(a));
}

GgufValue GgufValue::i32_array(const std::vector<std::int32_t>& items) {
    Array a;
    a.reserve(items.size());
    for (std::int32_t i : items) a.push_back(i32(i));
    return array(GgufValueType::kI32, std::move(a));
}

std::optional<std::uint64_t> GgufValue::as_uint() const {
    if (const auto* u = std::get_if<std::uint64_t>(&value_)) return *u;
    if (const auto* i = std::get_if<std::int64_t>(&value_)) {
        if (*i >= 0) return static_cast<std::uint64_t>(*i);
    }
    return std::nullopt;
}

std::optional<std::int64_t> GgufValue::as_int() const {
    if (const auto* i = std::get_if<std::int64_t>(&value_)) return *i;
    if (const auto* u = std::get_if<std::uint64_t>(&value_)) {
        if (*u <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
            return static_cast<std::int64_t>(*u);
        }
    }
    return std::nullopt;
}

std::optional<double> GgufValue::as_float() const {
    if (const auto* d = std::get_if<double>(&value_)) return *d;
    if (const auto* u = std::get_if<std::uint64_t>(&value_)) return static_cast<double>(*u);
    if (const auto* i = std::get_if<std::int64_t>(&value_)) return static_cast<double>(*i);
    return std::nullopt;
}

std::optional<bool> GgufValue::as_bool() const {
    if (const auto* b = std::get_if<bool>(&value_)) return *b;
    return std::nullopt;
}

}  // namespace kasten::llm
