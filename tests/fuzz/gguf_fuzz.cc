// GGUF files (llm/gguf_reader.h) as `kasten model` and the embedded decoder open them, then the readers built on a
// parsed file: the model configuration and the tokenizer (llm/model_config.h, llm/tokenizer_factory.h). Each input
// is written to an in-memory file (tests/fuzz/fuzz_file.h), because GgufReader maps a path.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "llm/gguf_reader.h"
#include "llm/model_config.h"
#include "llm/tokenizer.h"
#include "llm/tokenizer_factory.h"
#include "tests/fuzz/fuzz_file.h"
#include "tests/fuzz/fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace kasten::llm;
    kasten::fuzz::FuzzFile& file = kasten::fuzz::FuzzFile::get();
    if (!file.write(data, size)) std::abort();
    auto gguf = GgufReader::open(file.path());
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
