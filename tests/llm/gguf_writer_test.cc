#include "llm/gguf_writer.h"

#include <cstring>
#include <filesystem>
#include <vector>

#include <gtest/gtest.h>

#include "llm/gguf_reader.h"
#include "stories_fixture.h"
#include "temp_dir.h"

namespace kasten::llm {
namespace {

using testing::TempDir;

std::vector<std::uint8_t> iota_bytes(std::size_t n, std::uint8_t start) {
    std::vector<std::uint8_t> v(n);
    for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<std::uint8_t>(start + i);
    return v;
}

TEST(GgufWriterTest, RoundTripsEveryValueTypeAndTensors) {
    TempDir dir;
    GgufWriter w;
    w.set("general.architecture", GgufValue::string("llama"));
    w.set("v.u8", GgufValue::u8(250));
    w.set("v.i8", GgufValue::i8(-3));
    w.set("v.u16", GgufValue::u16(65535));
    w.set("v.i16", GgufValue::i16(-32768));
    w.set("v.u32", GgufValue::u32(7));
    w.set("v.i32", GgufValue::i32(-7));
    w.set("v.f32", GgufValue::f32(0.1f));
    w.set("v.bool", GgufValue::boolean(true));
    w.set("v.u64", GgufValue::u64(~0ull));
    w.set("v.i64", GgufValue::i64(-5));
    w.set("v.f64", GgufValue::f64(0.1));
    w.set("v.strings", GgufValue::string_array({"a", "", "▁b"}));
    w.set("v.nested",
          GgufValue::array(GgufValueType::kArray, {GgufValue::f32_array({1.0f, 2.0f}), GgufValue::i32_array({})}));
    w.set("v.u32", GgufValue::u32(8));  // replaces in place
    ASSERT_TRUE(w.add_tensor("t.f32", TensorType::kF32, {3, 2}, iota_bytes(24, 1)).is_ok());
    ASSERT_TRUE(w.add_tensor("t.q8", TensorType::kQ8_0, {64}, iota_bytes(68, 100)).is_ok());
    ASSERT_TRUE(w.add_tensor("t.filled", TensorType::kF16, {5}, [](std::span<std::uint8_t> out) {
                     for (std::size_t i = 0; i < out.size(); ++i) out[i] = static_cast<std::uint8_t>(i * 3);
                     return Status::ok();
                 }).is_ok());
    const std::string path = dir.file("out.gguf");
    ASSERT_TRUE(w.write(path).is_ok());
    EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));

    Result<GgufReader> r = GgufReader::open(path);
    ASSERT_TRUE(r.is_ok()) << r.status().to_string();
    EXPECT_EQ(r->version(), 3u);
    ASSERT_EQ(r->metadata().size(), 14u);
    EXPECT_EQ(r->metadata()[5].first, "v.u32");
    EXPECT_EQ(*r->find("v.u32"), GgufValue::u32(8));
    EXPECT_EQ(*r->find("v.u8"), GgufValue::u8(250));
    EXPECT_EQ(*r->find("v.i8"), GgufValue::i8(-3));
    EXPECT_EQ(*r->find("v.u16"), GgufValue::u16(65535));
    EXPECT_EQ(*r->find("v.i16"), GgufValue::i16(-32768));
    EXPECT_EQ(*r->find("v.i32"), GgufValue::i32(-7));
    EXPECT_EQ(*r->find("v.f32"), GgufValue::f32(0.1f));
    EXPECT_EQ(*r->find("v.bool"), GgufValue::boolean(true));
    EXPECT_EQ(*r->find("v.u64"), GgufValue::u64(~0ull));
    EXPECT_EQ(*r->find("v.i64"), GgufValue::i64(-5));
    EXPECT_EQ(*r->find("v.f64"), GgufValue::f64(0.1));
    EXPECT_EQ(r->get_string_array("v.strings").value(), (std::vector<std::string>{"a", "", "▁b"}));
    const GgufValue* nested = r->find("v.nested");
    ASSERT_NE(nested, nullptr);
    EXPECT_EQ(*nested,
              GgufValue::array(GgufValueType::kArray, {GgufValue::f32_array({1.0f, 2.0f}), GgufValue::i32_array({})}));

    ASSERT_EQ(r->tensors().size(), 3u);
    const TensorView* q8 = r->find_tensor("t.q8");
    ASSERT_NE(q8, nullptr);
    EXPECT_EQ(q8->type, TensorType::kQ8_0);
    EXPECT_EQ(q8->n_bytes, 68u);
    EXPECT_EQ(r->tensor_offset(*q8) % 32, 0u);
    EXPECT_EQ(std::vector<std::uint8_t>(q8->data, q8->data + 68), iota_bytes(68, 100));
    const TensorView* filled = r->find_tensor("t.filled");
    ASSERT_NE(filled, nullptr);
    EXPECT_EQ(filled->n_bytes, 10u);
    EXPECT_EQ(filled->data[4], 12);
}

TEST(GgufWriterTest, HonoursCustomAlignment) {
    TempDir dir;
    GgufWriter w;
    w.set("general.alignment", GgufValue::u32(256));
    ASSERT_TRUE(w.add_tensor("a", TensorType::kF32, {3}, iota_bytes(12, 0)).is_ok());
    ASSERT_TRUE(w.add_tensor("b", TensorType::kF32, {1}, iota_bytes(4, 9)).is_ok());
    ASSERT_TRUE(w.write(dir.file("a.gguf")).is_ok());
    Result<GgufReader> r = GgufReader::open(dir.file("a.gguf"));
    ASSERT_TRUE(r.is_ok()) << r.status().to_string();
    EXPECT_EQ(r->alignment(), 256u);
    EXPECT_EQ(r->data_offset() % 256, 0u);
    EXPECT_EQ(r->tensor_offset(*r->find_tensor("b")), 256u);
    EXPECT_EQ(r->find_tensor("b")->data[0], 9);
}

TEST(GgufWriterTest, RejectsInvalidInput) {
    TempDir dir;
    GgufWriter w;
    EXPECT_EQ(w.add_tensor("x", TensorType::kQ8_0, {30}, iota_bytes(34, 0)).code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(w.add_tensor("x", TensorType::kF32, {2}, iota_bytes(7, 0)).code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(w.add_tensor("x", TensorType::kF32, {1, 1, 1, 1, 1}, iota_bytes(4, 0)).code(),
              StatusCode::kInvalidArgument);
    EXPECT_EQ(w.add_tensor("", TensorType::kF32, {1}, iota_bytes(4, 0)).code(), StatusCode::kInvalidArgument);
    ASSERT_TRUE(w.add_tensor("x", TensorType::kF32, {1}, iota_bytes(4, 0)).is_ok());
    EXPECT_EQ(w.add_tensor("x", TensorType::kF32, {1}, iota_bytes(4, 0)).code(), StatusCode::kInvalidArgument);

    GgufWriter bad_array;
    bad_array.set("k", GgufValue::array(GgufValueType::kString, {GgufValue::u8(1)}));
    EXPECT_EQ(bad_array.write(dir.file("b.gguf")).code(), StatusCode::kInvalidArgument);
    GgufWriter bad_alignment;
    bad_alignment.set("general.alignment", GgufValue::u32(48));
    EXPECT_EQ(bad_alignment.write(dir.file("c.gguf")).code(), StatusCode::kInvalidArgument);

    GgufWriter failing;
    ASSERT_TRUE(failing
                    .add_tensor("f", TensorType::kF32, {1},
                                [](std::span<std::uint8_t>) { return Status::internal("generator broke"); })
                    .is_ok());
    Status s = failing.write(dir.file("d.gguf"));
    EXPECT_EQ(s.code(), StatusCode::kInternal);
    EXPECT_FALSE(std::filesystem::exists(dir.file("d.gguf")));
    EXPECT_FALSE(std::filesystem::exists(dir.file("d.gguf.tmp")));
    EXPECT_EQ(w.write(dir.file("no/such/dir/x.gguf")).code(), StatusCode::kIOError);
}

TEST(GgufWriterTest, RewritingStories260KReproducesTheFileByteForByte) {
    // The converter's file uses default alignment and packs tensors in order, as GgufWriter does.
    Result<GgufReader> r = GgufReader::open(testing::stories_gguf());
    ASSERT_TRUE(r.is_ok());
    GgufWriter w;
    for (const auto& [key, value] : r->metadata()) w.set(key, value);
    for (const TensorView& t : r->tensors()) {
        ASSERT_TRUE(
            w.add_tensor(t.name, t.type, t.dims, std::vector<std::uint8_t>(t.data, t.data + t.n_bytes)).is_ok());
    }
    TempDir dir;
    ASSERT_TRUE(w.write(dir.file("copy.gguf")).is_ok());
    EXPECT_TRUE(testing::read_file(dir.file("copy.gguf")) == testing::read_file(testing::stories_gguf()));
}

}  // namespace
}  // namespace kasten::llm
