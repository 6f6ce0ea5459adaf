#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace kasten::llm {

// GGUF metadata value types with their on-disk ids (REFERENCE.md §3.2).
enum class GgufValueType : std::uint32_t {
    kU8 = 0,
    kI8 = 1,
    kU16 = 2,
    kI16 = 3,
    kU32 = 4,
    kI32 = 5,
    kF32 = 6,
    kBool = 7,
    kString = 8,
    kArray = 9,
    kU64 = 10,
    kI64 = 11,
    kF64 = 12,
};

// "u32", "string", "array"...; "unknown" for ids outside the enum.
std::string_view gguf_value_type_name(GgufValueType type);
// True for ids 0..12.
bool is_valid_gguf_value_type(std::uint32_t id);

// One GGUF metadata value: a typed scalar, a string, or an array of values of one element type (arrays nest).
// The on-disk type is kept so a value read from a file is written back with the same type. Integers are held
// widened (u64 / i64) and floats as double, which represent every u8..u64, i8..i64, f32 and f64 exactly.
class GgufValue {
  public:
    using Array = std::vector<GgufValue>;

    GgufValue() : GgufValue(GgufValueType::kU8, std::uint64_t{0}) {}

    static GgufValue u8(std::uint8_t v) { return {GgufValueType::kU8, std::uint64_t{v}}; }
    static GgufValue i8(std::int8_t v) { return {GgufValueType::kI8, std::int64_t{v}}; }
    static GgufValue u16(std::uint16_t v) { return {GgufValueType::kU16, std::uint64_t{v}}; }
    static GgufValue i16(std::int16_t v) { return {GgufValueType::kI16, std::int64_t{v}}; }
    static GgufValue u32(std::uint32_t v) { return {GgufValueType::kU32, std::uint64_t{v}}; }
    static GgufValue i32(std::int32_t v) { return {GgufValueType::kI32, std::int64_t{v}}; }
    static GgufValue u64(std::uint64_t v) { return {GgufValueType::kU64, v}; }
    static GgufValue i64(std::int64_t v) { return {GgufValueType::kI64, v}; }
    static GgufValue f32(float v) { return {GgufValueType::kF32, double{v}}; }
    static GgufValue f64(double v) { return {GgufValueType::kF64, v}; }
    static GgufValue boolean(bool v) { return {GgufValueType::kBool, v}; }
    static GgufValue string(std::string v) { return {GgufValueType::kString, std::move(v)}; }
    // REQUIRES: every item has type `element_type` (checked by GgufWriter before writing).
    static GgufValue array(GgufValueType element_type, Array items);
    static GgufValue string_array(const std::vector<std::string>& items);
    static GgufValue f32_array(const std::vector<float>& items);
    static GgufValue i32_array(const std::vector<std::int32_t>& items);

    GgufValueType type() const { return type_; }
    // Element type of an array; meaningless for scalars.
    GgufValueType element_type() const { return element_type_; }

    // Integer of any integer type that fits the requested signedness; nullopt otherwise (also for floats, bools).
    std::optional<std::uint64_t> as_uint() const;
    std::optional<std::int64_t> as_int() const;
    // f32 or f64 (integers are converted too); nullopt for strings, bools, arrays.
    std::optional<double> as_float() const;
    std::optional<bool> as_bool() const;
    const std::string* as_string() const { return std::get_if<std::string>(&value_); }
    const Array* as_array() const { return std::get_if<Array>(&value_); }

    bool operator==(const GgufValue& other) const = default;

  private:
    using Storage = std::variant<std::uint64_t, std::int64_t, double, bool, std::string, Array>;
    GgufValue(GgufValueType type, Storage value) : type_(type), value_(std::move(value)) {}

    GgufValueType type_;
    GgufValueType element_type_ = GgufValueType::kU8;
    Storage value_;
};

}  // namespace kasten::llm
