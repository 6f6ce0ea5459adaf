// GGUF files (llm/gguf_reader.h) as `kasten model` and the embedded decoder open them, then the readers built on a
// parsed file: the model configuration and the tokenizer (llm/model_config.h, llm/tokenizer_factory.h). Each input
// is written to an in-memory file, because GgufReader maps a path.
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "llm/gguf_reader.h"
#include "llm/model_config.h"
#include "llm/tokenizer.h"
#include "llm/tokenizer_factory.h"
#include "tests/fuzz/fuzz_input.h"

namespace {

// An in-memory file (memfd) this process rewrites for every input, and a path that opens it: no disk I/O per input.
struct InputFile {
    int fd = -1;
    std::string path;
};

const InputFile& input_file() {
    static const InputFile file = [] {
        InputFile f;
        f.fd = ::memfd_create("kasten-gguf-fuzz", 0);
        if (f.fd < 0) std::abort();
        f.path = "/proc/self/fd/" + std::to_string(f.fd);
        return f;
    }();
    return file;
}

bool write_input(const std::uint8_t* data, std::size_t size) {
    const InputFile& f = input_file();
    if (::ftruncate(f.fd, 0) != 0) return false;
    std::size_t done = 0;
    while (done < size) {
        ssize_t n = ::pwrite(f.fd, data + done, size - done, static_cast<off_t>(done));
        if (n <= 0) return false;
        done += static_cast<std::size_t>(n);
    }
    return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace kasten::llm;
    if (!write_input(data, size)) std::abort();
    auto gguf = GgufReader::open(input_file().path);
    if (!gguf.is_ok()) return 0;
    const GgufReader& g = gguf.value();
    for (const auto& t : g.tensors()) {
        // Every tensor lies inside the file.
        KASTEN_FUZZ_CHECK(g.data_offset() + g.tensor_offset(t) + t.n_bytes <= g.file_size());
        KASTEN_FUZZ_CHECK(g.find_tensor(t.name) != nullptr);
    }
    for (const auto& [key, value] : g.metadata()) {
        KASTEN_FUZZ_CHECK(g.find(key) != nullptr);
        (void)g.get_uint(key);
        (void)g.get_float(key);
        (void)g.get_string(key);
        (void)g.get_string_array(key);
        (void)g.get_int_array(key);
    }
    (void)model_config_from_gguf(g);
    auto vocab = read_gguf_vocab(g);
    if (!vocab.is_ok()) return 0;
    auto tokenizer = make_tokenizer(std::move(vocab).value());
    if (!tokenizer.is_ok()) return 0;
    auto ids = tokenizer.value()->encode("Hello world! \xC3\xA9t\xC3\xA9 <s> 123", EncodeOptions{true, true});
    for (TokenId id : ids) KASTEN_FUZZ_CHECK(tokenizer.value()->is_valid(id));
    (void)tokenizer.value()->decode(ids);
    return 0;
}
