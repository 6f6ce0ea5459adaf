// KUSE files (Universal Sentence Encoder lite, llm/use_lite_format.h) as UseLiteModel::load() maps them for
// `--embedder use`, then the SentencePiece tokenizer built from the loaded vocabulary. A valid file holds ~28 MB of
// tensors, far beyond what fuzzing mutates, so the first input byte picks how the rest becomes the file:
//   selector % 3 == 0: the file as it is;
//   selector % 3 == 1: with the trailer (CRC-32C, end magic) appended and the header's file size set to match;
//   selector % 3 == 2: the rest is the file's header and vocabulary; the tensors follow as zeros at the next multiple
//                      of 64 bytes, and the header's file size, tensors offset and tensors size and the trailer are
//                      set to match, so mutations of the vocabulary reach the checks behind the checksum.
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "llm/crc32c.h"
#include "llm/kvec_format.h"
#include "llm/use_lite_format.h"
#include "llm/use_lite_model.h"
#include "llm/use_lite_tokenizer.h"
#include "tests/fuzz/fuzz_file.h"
#include "tests/fuzz/fuzz_input.h"

namespace {

using kasten::llm::crc32c;
using kasten::llm::store_le32;
using kasten::llm::store_le64;

constexpr std::size_t kFileSizeOffset = 24;
constexpr std::size_t kTensorsOffsetOffset = 40;
constexpr std::size_t kTensorsBytesOffset = 48;

// CRC-32C of A + B from crc_a = CRC(A), crc_b = CRC(B) and B's length, in O(log length) (zlib's crc32_combine, for
// the CRC-32C polynomial): the tensors of an expanded file are zeros whose CRC is computed once.
std::uint32_t gf2_times(const std::uint32_t* mat, std::uint32_t vec) {
    std::uint32_t sum = 0;
    for (; vec != 0; vec >>= 1, ++mat) {
        if (vec & 1) sum ^= *mat;
    }
    return sum;
}
void gf2_square(std::uint32_t* square, const std::uint32_t* mat) {
    for (int n = 0; n < 32; ++n) square[n] = gf2_times(mat, mat[n]);
}
std::uint32_t crc32c_combine(std::uint32_t crc_a, std::uint32_t crc_b, std::uint64_t length_b) {
    if (length_b == 0) return crc_a;
    std::uint32_t even[32], odd[32];
    odd[0] = 0x82F63B78u;  // one zero bit
    for (int n = 1; n < 32; ++n) odd[n] = 1u << (n - 1);
    gf2_square(even, odd);  // two zero bits
    gf2_square(odd, even);  // four
    do {
        gf2_square(even, odd);
        if (length_b & 1) crc_a = gf2_times(even, crc_a);
        length_b >>= 1;
        if (length_b == 0) break;
        gf2_square(odd, even);
        if (length_b & 1) crc_a = gf2_times(odd, crc_a);
        length_b >>= 1;
    } while (length_b != 0);
    return crc_a ^ crc_b;
}

// CRC-32C of the zero tensors of a version-1 file.
std::uint32_t zero_tensors_crc() {
    static const std::uint32_t crc = [] {
        const std::vector<std::uint8_t> zeros(kasten::llm::use_lite_tensors_bytes(), 0);
        return crc32c(zeros.data(), zeros.size());
    }();
    return crc;
}

std::array<std::uint8_t, 8> trailer(std::uint32_t crc) {
    std::array<std::uint8_t, 8> t{};
    store_le32(t.data(), crc);
    std::copy(kasten::llm::kUseLiteEndMagic.begin(), kasten::llm::kUseLiteEndMagic.end(), t.begin() + 4);
    return t;
}

// Writes the file the input describes (see the top of the file) to the fuzz file.
bool write_file(std::uint8_t selector, std::string_view rest) {
    using kasten::fuzz::FuzzFile;
    FuzzFile& f = FuzzFile::get();
    std::vector<std::uint8_t> head(rest.begin(), rest.end());
    switch (selector % 3) {
        case 0:
            return f.write(head.data(), head.size());
        case 1: {
            const std::size_t size = head.size() + 8;
            if (head.size() >= kFileSizeOffset + 8) store_le64(head.data() + kFileSizeOffset, size);
            const auto t = trailer(crc32c(head.data(), head.size()));
            return f.write(size, {{0, head.data(), head.size()}, {head.size(), t.data(), t.size()}});
        }
        default: {
            const std::size_t tensors_offset =
                (std::max(head.size(), kasten::llm::kUseLiteHeaderSize) + kasten::llm::kUseLiteTensorAlignment - 1) /
                kasten::llm::kUseLiteTensorAlignment * kasten::llm::kUseLiteTensorAlignment;
            const std::size_t tensors_bytes = kasten::llm::use_lite_tensors_bytes();
            const std::size_t size = tensors_offset + tensors_bytes + 8;
            head.resize(tensors_offset, 0);
            store_le64(head.data() + kFileSizeOffset, size);
            store_le64(head.data() + kTensorsOffsetOffset, tensors_offset);
            store_le64(head.data() + kTensorsBytesOffset, tensors_bytes);
            const std::uint32_t crc =
                crc32c_combine(crc32c(head.data(), head.size()), zero_tensors_crc(), tensors_bytes);
            const auto t = trailer(crc);
            return f.write(size, {{0, head.data(), head.size()}, {size - 8, t.data(), t.size()}});
        }
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace kasten::llm;
    const kasten::fuzz::Selected input = kasten::fuzz::select(data, size);
    if (!write_file(input.selector, input.text)) std::abort();
    auto loaded = UseLiteModel::load(kasten::fuzz::FuzzFile::get().path());
    if (!loaded.is_ok()) {
        KASTEN_FUZZ_CHECK(!loaded.status().message().empty());
        return 0;
    }
    const UseLiteModel& model = *loaded.value();
    KASTEN_FUZZ_CHECK(model.piece_count() > 0 && model.piece_count() <= kUseLiteEmbeddingRows);
    for (std::size_t id = 0; id < model.piece_count(); ++id) {
        (void)model.piece(id);
        (void)model.score(id);
    }
    for (const UseLiteTensorSpec& spec : kUseLiteTensors) {
        // The last value of every tensor lies inside the file (ASan reports a read past the mapping).
        const float* t = model.tensor(spec.tensor);
        KASTEN_FUZZ_CHECK(t != nullptr);
        volatile float first = t[0], last = t[static_cast<std::size_t>(spec.rows) * spec.cols - 1];
        (void)first;
        (void)last;
    }
    const UseLiteTokenizer tokenizer(model);
    for (std::string_view text : {std::string_view("Hello world! caf\xC3\xA9 \xEF\xBC\xA1 123"), input.text}) {
        for (int id : tokenizer.encode(text)) {
            KASTEN_FUZZ_CHECK(id >= 0 && static_cast<std::size_t>(id) < model.piece_count());
        }
    }
    return 0;
}
