#include "llm/tensor_type.h"

#include <array>
#include <cctype>

#include <fmt/format.h>

namespace kasten::llm {
namespace {

struct Entry {
    TensorType type;
    TensorTypeTraits traits;
};

constexpr std::array<Entry, 20> kEntries = {{
    {TensorType::kF32, {"F32", 1, 4}},       {TensorType::kF16, {"F16", 1, 2}},
    {TensorType::kQ4_0, {"Q4_0", 32, 18}},   {TensorType::kQ4_1, {"Q4_1", 32, 20}},
    {TensorType::kQ5_0, {"Q5_0", 32, 22}},   {TensorType::kQ5_1, {"Q5_1", 32, 24}},
    {TensorType::kQ8_0, {"Q8_0", 32, 34}},   {TensorType::kQ8_1, {"Q8_1", 32, 36}},
    {TensorType::kQ2_K, {"Q2_K", 256, 84}},  {TensorType::kQ3_K, {"Q3_K", 256, 110}},
    {TensorType::kQ4_K, {"Q4_K", 256, 144}}, {TensorType::kQ5_K, {"Q5_K", 256, 176}},
    {TensorType::kQ6_K, {"Q6_K", 256, 210}}, {TensorType::kQ8_K, {"Q8_K", 256, 292}},
    {TensorType::kI8, {"I8", 1, 1}},         {TensorType::kI16, {"I16", 1, 2}},
    {TensorType::kI32, {"I32", 1, 4}},       {TensorType::kI64, {"I64", 1, 8}},
    {TensorType::kF64, {"F64", 1, 8}},       {TensorType::kBF16, {"BF16", 1, 2}},
}};

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) {
            return false;
        }
    }
    return true;
}

}  // namespace

Result<TensorType> tensor_type_from_id(std::uint32_t id) {
    for (const Entry& e : kEntries) {
        if (static_cast<std::uint32_t>(e.type) == id) return e.type;
    }
    return Status::not_supported(fmt::format("unknown ggml tensor type id {}", id));
}

Result<TensorType> tensor_type_from_name(std::string_view name) {
    for (const Entry& e : kEntries) {
        if (iequals(e.traits.name, name)) return e.type;
    }
    return Status::invalid_argument(fmt::format("unknown tensor type name '{}'", name));
}

const TensorTypeTraits& tensor_type_traits(TensorType type) {
    for (const Entry& e : kEntries) {
        if (e.type == type) return e.traits;
    }
    static const TensorTypeTraits kUnknown{"unknown", 1, 0};
    return kUnknown;
}

bool is_compute_type(TensorType type) {
    switch (type) {
        case TensorType::kF32:
        case TensorType::kF16:
        case TensorType::kQ8_0:
        case TensorType::kQ4_0:
        case TensorType::kQ4_K:
        case TensorType::kQ6_K:
            return true;
        default:
            return false;
    }
}

}  // namespace kasten::llm
