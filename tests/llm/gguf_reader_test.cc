#include "llm/gguf_reader.h"

#include <cstring>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "stories_fixture.h"
#include "temp_dir.h"

namespace kasten::llm {
namespace {

using testing::TempDir;
using testing::write_file;

// Hand-assembles GGUF bytes, independently of GgufWriter, so the reader is tested against the spec.
class Bytes {
  public:
    template <typename T>
    Bytes& put(T v) {
        const char* p = reinterpret_cast<const char*>(&v);
        s_.append(p, sizeof v);
        return *this;
    }
    Bytes& str(const std::string& v) {
        put<std::uint64_t>(v.size());
        s_ += v;
        return *this;
    }
    Bytes& pad(std::size_t alignment) {
        while (s_.size() % alignment != 0) s_.push_back('\0');
        return *this;
    }
    std::size_t size() const { return s_.size(); }
    std::string& bytes() { return s_; }

  private:
    std::string s_;
};

// A small valid v3 file: 3 metadata keys (one nested array) and two F32 tensors. Offsets of interesting fields
// are recorded for the corruption tests.
struct SmallFile {
    std::string bytes;
    std::size_t version_at = 4;
    std::size_t tensor_count_at = 8;
    std::size_t kv_count_at = 16;
    std::size_t array_count_at = 0;
    std::size_t n_dims_at = 0;
    std::size_t tensor_type_at = 0;
    std::size_t second_offset_at = 0;
    std::size_t data_at = 0;
};

SmallFile make_small_file() {
    SmallFile f;
    Bytes b;
    b.put<std::uint32_t>(kGgufMagic).put<std::uint32_t>(3).put<std::uint64_t>(2).put<std::uint64_t>(3);
    b.str("general.architecture").put<std::uint32_t>(8).str("llama");
    b.str("test.nested").put<std::uint32_t>(9).put<std::uint32_t>(9);  // array of arrays
    f.array_count_at = b.size();
    b.put<std::uint64_t>(2);
    b.put<std::uint32_t>(5).put<std::uint64_t>(2).put<std::int32_t>(-1).put<std::int32_t>(7);
    b.put<std::uint32_t>(8).put<std::uint64_t>(1).str("x");
    b.str("test.flag").put<std::uint32_t>(7).put<std::uint8_t>(1);
    // tensor a: F32 [4, 2] at 0; tensor b: F32 [3] at 32
    b.str("a");
    f.n_dims_at = b.size();
    b.put<std::uint32_t>(2).put<std::uint64_t>(4).put<std::uint64_t>(2);
    f.tensor_type_at = b.size();
    b.put<std::uint32_t>(0).put<std::uint64_t>(0);
    b.str("b").put<std::uint32_t>(1).put<std::uint64_t>(3).put<std::uint32_t>(0);
    f.second_offset_at = b.size();
    b.put<std::uint64_t>(32);
    b.pad(32);
    f.data_at = b.size();
    for (int i = 0; i < 8; ++i) b.put<float>(static_cast<float>(i));
    b.pad(32);
    for (int i = 0; i < 3; ++i) b.put<float>(10.0f + static_cast<float>(i));
    f.bytes = b.bytes();
    return f;
}

template <typename T>
void patch(std::string& s, std::size_t at, T v) {
    std::memcpy(s.data() + at, &v, sizeof v);
}

Result<GgufReader> open_bytes(const TempDir& dir, const std::string& bytes) {
    std::string path = dir.file("t.gguf");
    write_file(path, bytes);
    return GgufReader::open(path);
}

TEST(GgufReaderTest, ReadsStories260K) {
    Result<GgufReader> r = GgufReader::open(testing::stories_gguf());
    ASSERT_TRUE(r.is_ok()) << r.status().to_string();
    EXPECT_EQ(r->version(), 3u);
    EXPECT_EQ(r->metadata().size(), 19u);
    EXPECT_EQ(r->tensors().size(), 48u);
    EXPECT_EQ(r->alignment(), 32u);
    EXPECT_EQ(r->data_offset(), 14176u);
    EXPECT_EQ(*r->get_string("general.architecture"), "llama");
    EXPECT_EQ(*r->get_uint("llama.context_length"), 128u);
    EXPECT_EQ(*r->get_uint("llama.attention.head_count_kv"), 4u);
    EXPECT_NEAR(*r->get_float("llama.attention.layer_norm_rms_epsilon"), 1e-5, 1e-9);
    Result<std::vector<std::string>> tokens = r->get_string_array("tokenizer.ggml.tokens");
    ASSERT_TRUE(tokens.is_ok());
    ASSERT_EQ(tokens->size(), 512u);
    EXPECT_EQ((*tokens)[1], "<s>");
    EXPECT_EQ((*tokens)[3], "<0x00>");
    EXPECT_EQ(r->get_int_array("tokenizer.ggml.token_type")->at(3), 6);
    EXPECT_EQ(r->get_float_array("tokenizer.ggml.scores")->size(), 512u);
    const TensorView* embd = r->find_tensor("token_embd.weight");
    ASSERT_NE(embd, nullptr);
    EXPECT_EQ(embd->type, TensorType::kF32);
    EXPECT_EQ(embd->dims, (std::vector<std::uint64_t>{64, 512}));
    EXPECT_EQ(embd->rows(), 512u);
    EXPECT_EQ(embd->n_bytes, 64u * 512u * 4u);
    EXPECT_EQ(r->tensor_offset(*embd), 0u);
    float first = 0;
    std::memcpy(&first, embd->data, 4);
    EXPECT_FLOAT_EQ(first, -0.29474878f);
    EXPECT_NE(r->find_tensor("output.weight"), nullptr);
    EXPECT_EQ(r->find_tensor("nope"), nullptr);
    EXPECT_EQ(r->get_uint("tokenizer.ggml.seperator_token_id").value(), 4294967295u);
}

TEST(GgufReaderTest, TypedGettersReportMissingAndMistyped) {
    Result<GgufReader> r = GgufReader::open(testing::stories_gguf());
    ASSERT_TRUE(r.is_ok());
    EXPECT_EQ(r->get_uint("missing.key").status().code(), StatusCode::kNotFound);
    EXPECT_EQ(r->get_uint("general.architecture").status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(r->get_string("llama.block_count").status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(r->get_string_array("tokenizer.ggml.scores").status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(r->get_bool("llama.block_count").status().code(), StatusCode::kInvalidArgument);
}

TEST(GgufReaderTest, ReadsHandBuiltFileWithNestedArrays) {
    TempDir dir;
    SmallFile f = make_small_file();
    Result<GgufReader> r = open_bytes(dir, f.bytes);
    ASSERT_TRUE(r.is_ok()) << r.status().to_string();
    const GgufValue* nested = r->find("test.nested");
    ASSERT_NE(nested, nullptr);
    ASSERT_EQ(nested->type(), GgufValueType::kArray);
    EXPECT_EQ(nested->element_type(), GgufValueType::kArray);
    const GgufValue::Array& outer = *nested->as_array();
    ASSERT_EQ(outer.size(), 2u);
    EXPECT_EQ(outer[0].element_type(), GgufValueType::kI32);
    EXPECT_EQ(outer[0].as_array()->at(0).as_int(), -1);
    EXPECT_EQ(outer[0].as_array()->at(1).as_int(), 7);
    EXPECT_EQ(*outer[1].as_array()->at(0).as_string(), "x");
    EXPECT_EQ(r->get_bool("test.flag").value(), true);
    ASSERT_EQ(r->tensors().size(), 2u);
    EXPECT_EQ(r->data_offset(), f.data_at);
    const TensorView& b = r->tensors()[1];
    EXPECT_EQ(b.name, "b");
    EXPECT_EQ(r->tensor_offset(b), 32u);
    float v[3];
    std::memcpy(v, b.data, sizeof v);
    EXPECT_EQ(v[0], 10.0f);
    EXPECT_EQ(v[2], 12.0f);
}

TEST(GgufReaderTest, AcceptsVersion2) {
    TempDir dir;
    SmallFile f = make_small_file();
    patch<std::uint32_t>(f.bytes, f.version_at, 2);
    Result<GgufReader> r = open_bytes(dir, f.bytes);
    ASSERT_TRUE(r.is_ok()) << r.status().to_string();
    EXPECT_EQ(r->version(), 2u);
}

TEST(GgufReaderTest, RejectsBadMagicAndVersions) {
    TempDir dir;
    SmallFile f = make_small_file();
    std::string bad_magic = f.bytes;
    bad_magic[0] = 'X';
    Result<GgufReader> r = open_bytes(dir, bad_magic);
    ASSERT_FALSE(r.is_ok());
    EXPECT_EQ(r.status().code(), StatusCode::kCorruption);
    EXPECT_NE(r.status().message().find("magic"), std::string::npos);

    for (std::uint32_t version : {1u, 4u, 0x03000000u}) {
        std::string bytes = f.bytes;
        patch<std::uint32_t>(bytes, f.version_at, version);
        Result<GgufReader> v = open_bytes(dir, bytes);
        ASSERT_FALSE(v.is_ok()) << version;
        EXPECT_EQ(v.status().code(), StatusCode::kNotSupported) << version;
    }
}

TEST(GgufReaderTest, EveryTruncationIsACleanError) {
    TempDir dir;
    SmallFile f = make_small_file();
    for (std::size_t len = 0; len < f.bytes.size(); ++len) {
        Result<GgufReader> r = open_bytes(dir, f.bytes.substr(0, len));
        ASSERT_FALSE(r.is_ok()) << "prefix of " << len << " bytes was accepted";
        EXPECT_EQ(r.status().code(), StatusCode::kCorruption) << len << ": " << r.status().to_string();
    }
}

TEST(GgufReaderTest, TruncatedRealFileIsACleanError) {
    TempDir dir;
    std::string whole = testing::read_file(testing::stories_gguf());
    for (std::size_t len : {std::size_t{100}, std::size_t{14000}, std::size_t{14176}, whole.size() - 1}) {
        Result<GgufReader> r = open_bytes(dir, whole.substr(0, len));
        ASSERT_FALSE(r.is_ok()) << len;
        EXPECT_EQ(r.status().code(), StatusCode::kCorruption) << len;
    }
}

TEST(GgufReaderTest, OversizedCountsAreRejectedBeforeAllocating) {
    TempDir dir;
    SmallFile f = make_small_file();
    const std::uint64_t huge = 1ull << 60;
    for (std::size_t at : {f.tensor_count_at, f.kv_count_at, f.array_count_at}) {
        std::string bytes = f.bytes;
        patch<std::uint64_t>(bytes, at, huge);
        Result<GgufReader> r = open_bytes(dir, bytes);
        ASSERT_FALSE(r.is_ok()) << at;
        EXPECT_EQ(r.status().code(), StatusCode::kCorruption) << at;
        EXPECT_NE(r.status().message().find("count"), std::string::npos) << r.status().to_string();
    }
    // A string length larger than the file.
    std::string bytes = f.bytes;
    patch<std::uint64_t>(bytes, 24, huge);  // length of the first key
    EXPECT_EQ(open_bytes(dir, bytes).status().code(), StatusCode::kCorruption);
}

TEST(GgufReaderTest, RejectsMalformedTensorInfo) {
    TempDir dir;
    SmallFile f = make_small_file();
    struct Case {
        std::size_t at;
        std::uint64_t value;
        int width;
        StatusCode code;
    };
    const Case cases[] = {
        {f.n_dims_at, 5, 4, StatusCode::kCorruption},                  // too many dims
        {f.n_dims_at, 0, 4, StatusCode::kCorruption},                  // no dims
        {f.tensor_type_at, 99, 4, StatusCode::kNotSupported},          // unknown tensor type
        {f.tensor_type_at, 8, 4, StatusCode::kCorruption},             // Q8_0 with ne0 = 4: not a whole block
        {f.second_offset_at, 33, 8, StatusCode::kCorruption},          // misaligned
        {f.second_offset_at, 64, 8, StatusCode::kCorruption},          // past the end of the data
        {f.second_offset_at, ~0ull - 31, 8, StatusCode::kCorruption},  // offset + size overflows
    };
    for (const Case& c : cases) {
        std::string bytes = f.bytes;
        if (c.width == 4) {
            patch<std::uint32_t>(bytes, c.at, static_cast<std::uint32_t>(c.value));
        } else {
            patch<std::uint64_t>(bytes, c.at, c.value);
        }
        Result<GgufReader> r = open_bytes(dir, bytes);
        ASSERT_FALSE(r.is_ok()) << c.at << " " << c.value;
        EXPECT_EQ(r.status().code(), c.code) << r.status().to_string();
    }
}

TEST(GgufReaderTest, RejectsMalformedMetadata) {
    TempDir dir;
    auto header = [](std::uint64_t n_kv) {
        Bytes b;
        b.put<std::uint32_t>(kGgufMagic).put<std::uint32_t>(3).put<std::uint64_t>(0).put<std::uint64_t>(n_kv);
        return b;
    };
    {  // unknown value type
        Bytes b = header(1);
        b.str("k").put<std::uint32_t>(13).put<std::uint32_t>(0);
        EXPECT_EQ(open_bytes(dir, b.bytes()).status().code(), StatusCode::kCorruption);
    }
    {  // bool that is neither 0 nor 1
        Bytes b = header(1);
        b.str("k").put<std::uint32_t>(7).put<std::uint8_t>(2);
        EXPECT_EQ(open_bytes(dir, b.bytes()).status().code(), StatusCode::kCorruption);
    }
    {  // duplicate key
        Bytes b = header(2);
        b.str("k").put<std::uint32_t>(4).put<std::uint32_t>(1);
        b.str("k").put<std::uint32_t>(4).put<std::uint32_t>(2);
        Result<GgufReader> r = open_bytes(dir, b.bytes());
        EXPECT_EQ(r.status().code(), StatusCode::kCorruption);
        EXPECT_NE(r.status().message().find("duplicate"), std::string::npos);
    }
    {  // arrays nested too deep
        Bytes b = header(1);
        b.str("k").put<std::uint32_t>(9);
        for (int i = 0; i < 20; ++i) b.put<std::uint32_t>(9).put<std::uint64_t>(1);
        b.put<std::uint32_t>(0).put<std::uint64_t>(0);
        b.pad(64);
        EXPECT_EQ(open_bytes(dir, b.bytes()).status().code(), StatusCode::kCorruption);
    }
    {  // alignment that is not a power of two
        Bytes b = header(1);
        b.str("general.alignment").put<std::uint32_t>(4).put<std::uint32_t>(24);
        EXPECT_EQ(open_bytes(dir, b.bytes()).status().code(), StatusCode::kCorruption);
    }
    {  // every scalar type, read back
        Bytes b = header(12);
        b.str("u8").put<std::uint32_t>(0).put<std::uint8_t>(200);
        b.str("i8").put<std::uint32_t>(1).put<std::int8_t>(-100);
        b.str("u16").put<std::uint32_t>(2).put<std::uint16_t>(60000);
        b.str("i16").put<std::uint32_t>(3).put<std::int16_t>(-30000);
        b.str("u32").put<std::uint32_t>(4).put<std::uint32_t>(4000000000u);
        b.str("i32").put<std::uint32_t>(5).put<std::int32_t>(-2000000000);
        b.str("f32").put<std::uint32_t>(6).put<float>(1.5f);
        b.str("bool").put<std::uint32_t>(7).put<std::uint8_t>(0);
        b.str("string").put<std::uint32_t>(8).str("héllo");
        b.str("u64").put<std::uint32_t>(10).put<std::uint64_t>(1ull << 63);
        b.str("i64").put<std::uint32_t>(11).put<std::int64_t>(-(1ll << 62));
        b.str("f64").put<std::uint32_t>(12).put<double>(-2.25);
        Result<GgufReader> r = open_bytes(dir, b.bytes());
        ASSERT_TRUE(r.is_ok()) << r.status().to_string();
        EXPECT_EQ(r->find("u8")->type(), GgufValueType::kU8);
        EXPECT_EQ(*r->find("u8")->as_uint(), 200u);
        EXPECT_EQ(*r->find("i8")->as_int(), -100);
        EXPECT_EQ(*r->find("u16")->as_uint(), 60000u);
        EXPECT_EQ(*r->find("i16")->as_int(), -30000);
        EXPECT_EQ(*r->find("u32")->as_uint(), 4000000000u);
        EXPECT_EQ(*r->find("i32")->as_int(), -2000000000);
        EXPECT_EQ(*r->find("f32")->as_float(), 1.5);
        EXPECT_EQ(*r->find("bool")->as_bool(), false);
        EXPECT_EQ(*r->find("string")->as_string(), "héllo");
        EXPECT_EQ(*r->find("u64")->as_uint(), 1ull << 63);
        EXPECT_FALSE(r->find("u64")->as_int().has_value());
        EXPECT_EQ(*r->find("i64")->as_int(), -(1ll << 62));
        EXPECT_EQ(*r->find("f64")->as_float(), -2.25);
        EXPECT_FALSE(r->find("i8")->as_uint().has_value());
        EXPECT_EQ(r->data_offset(), b.size() + (32 - b.size() % 32) % 32);
    }
}

TEST(GgufReaderTest, MissingFileIsNotFound) {
    TempDir dir;
    EXPECT_EQ(GgufReader::open(dir.file("absent.gguf")).status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace kasten::llm
