// The tokenizers (llm/tokenizer.h) on arbitrary bytes: SentencePiece (stories260K's tok512 and the llama vocabulary),
// byte-level BPE (GPT-2) and WordPiece (BERT), from the committed vocabularies in data/. The first byte picks the
// tokenizer and the options, the rest is the text. Every id is in the vocabulary; decoding never fails.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "llm/tokenizer.h"
#include "llm/tokenizer_factory.h"
#include "tests/fuzz/fuzz_input.h"

#ifndef KASTEN_SOURCE_DIR
#error "KASTEN_SOURCE_DIR must name the source tree (the vocabularies are read from data/)"
#endif

namespace {

std::unique_ptr<kasten::llm::Tokenizer> load(const std::string& relative) {
    auto t = kasten::llm::load_gguf_tokenizer(std::string(KASTEN_SOURCE_DIR) + "/" + relative);
    if (!t.is_ok()) {
        __builtin_printf("cannot load %s: %s\n", relative.c_str(), t.status().to_string().c_str());
        std::abort();
    }
    return std::move(t).value();
}

const std::vector<std::unique_ptr<kasten::llm::Tokenizer>>& tokenizers() {
    static const auto all = [] {
        std::vector<std::unique_ptr<kasten::llm::Tokenizer>> v;
        v.push_back(load("data/models/stories260K/stories260K-tok512.gguf"));
        v.push_back(load("data/vocab/ggml-vocab-llama-spm.gguf"));
        v.push_back(load("data/vocab/ggml-vocab-gpt-2.gguf"));
        v.push_back(load("data/vocab/ggml-vocab-bert-bge.gguf"));
        return v;
    }();
    return all;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace kasten::llm;
    auto [selector, text] = kasten::fuzz::select(data, size);
    const auto& all = tokenizers();
    const Tokenizer& tok = *all[selector % all.size()];
    EncodeOptions options;
    options.add_special = (selector & 0x10) != 0;
    options.parse_special = (selector & 0x20) != 0;
    std::vector<TokenId> ids;
    if (selector & 0x40) {
        // The same text split into a special-aware half and a plain half, as a rendered chat template is.
        std::size_t half = text.size() / 2;
        TextSegment segments[2] = {{text.substr(0, half), true}, {text.substr(half), false}};
        ids = tok.encode(segments, options.add_special);
    } else {
        ids = tok.encode(text, options);
    }
    for (TokenId id : ids) KASTEN_FUZZ_CHECK(tok.is_valid(id));
    DecodeOptions decode;
    decode.render_special = (selector & 0x80) != 0;
    (void)tok.decode(ids, decode);
    // Ids from outside never crash.
    std::vector<TokenId> foreign;
    for (std::size_t i = 0; i + 4 <= text.size() && foreign.size() < 16; i += 4) {
        std::uint32_t v = 0;
        for (int b = 0; b < 4; ++b) v |= static_cast<std::uint32_t>(static_cast<std::uint8_t>(text[i + b])) << (8 * b);
        foreign.push_back(static_cast<TokenId>(v));
    }
    (void)tok.decode(foreign, decode);
    for (TokenId id : foreign) (void)tok.token_to_piece(id, true);
    return 0;
}
