// KVEC word-vector files (llm/kvec_format.h) as GloveEmbedder::load() maps them for `--embedder glove`, then the
// loaded vocabulary: its word index, embedding and nearest neighbours. The first input byte picks how the rest
// becomes the file: bit 0 clear, as it is; set, with the trailer (CRC-32C, end magic) appended and the header's
// file size set to match, so mutations reach the checks behind the checksum.
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "llm/crc32c.h"
#include "llm/glove_embedder.h"
#include "llm/kvec_format.h"
#include "tests/fuzz/fuzz_file.h"
#include "tests/fuzz/fuzz_input.h"

namespace {

constexpr std::size_t kFileSizeOffset = 24;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace kasten::llm;
    const kasten::fuzz::Selected input = kasten::fuzz::select(data, size);
    std::string file(input.text);
    if (input.selector & 1) {
        file.resize(file.size() + kKvecTrailerSize);
        auto* bytes = reinterpret_cast<std::uint8_t*>(file.data());
        if (file.size() >= kFileSizeOffset + 8) store_le64(bytes + kFileSizeOffset, file.size());
        store_le32(bytes + file.size() - kKvecTrailerSize, crc32c(bytes, file.size() - kKvecTrailerSize));
        std::copy(kKvecEndMagic.begin(), kKvecEndMagic.end(), file.end() - 4);
    }
    kasten::fuzz::FuzzFile& f = kasten::fuzz::FuzzFile::get();
    if (!f.write(reinterpret_cast<const std::uint8_t*>(file.data()), file.size())) std::abort();
    auto loaded = GloveEmbedder::load(f.path());
    if (!loaded.is_ok()) {
        KASTEN_FUZZ_CHECK(!loaded.status().message().empty());
        return 0;
    }
    const GloveEmbedder& e = *loaded.value();
    const KvecHeader h = decode_kvec_header(reinterpret_cast<const std::uint8_t*>(file.data()));
    KASTEN_FUZZ_CHECK(e.dim() == static_cast<int>(h.dim) && e.vocabulary_size() == h.count);
    // Every word is non-empty, found at its own row, and its vector lies in the file.
    std::string text;
    const std::size_t rows = std::min<std::size_t>(e.vocabulary_size(), 64);
    for (std::size_t r = 0; r < rows; ++r) {
        const std::string_view w = e.word(r);
        KASTEN_FUZZ_CHECK(!w.empty());
        KASTEN_FUZZ_CHECK(e.find(w) == r);
        KASTEN_FUZZ_CHECK(e.vector(r).size() == h.dim);
        text.append(w).push_back(' ');
    }
    const std::vector<float> v = e.embed(text);
    KASTEN_FUZZ_CHECK(v.size() == h.dim);
    (void)e.embed("the quick brown fox, 42 \xC3\xA9t\xC3\xA9");
    const std::array<std::size_t, 1> exclude = {0};
    const auto nearest = e.nearest(v, 3, exclude);
    KASTEN_FUZZ_CHECK(nearest.size() <= 3);
    for (const auto& [row, score] : nearest) KASTEN_FUZZ_CHECK(row > 0 && row < e.vocabulary_size());
    return 0;
}
