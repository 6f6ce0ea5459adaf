// JSON schemas for constrained decoding (llm/json_schema.h) and the byte-level grammar built from them
// (llm/json_grammar.h). Input: a schema, a NUL byte, then bytes fed to the grammar (without a NUL byte, the text is
// parsed as a schema and fed to the grammar of a fixed schema). The grammar's promises are checked: it consumes
// what accepts() allows, min_bytes_to_complete() is 0 exactly when the text is complete, and every complete text
// is valid JSON.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "llm/json_grammar.h"
#include "llm/json_schema.h"
#include "tests/fuzz/fuzz_input.h"

namespace {

std::shared_ptr<const kasten::llm::JsonSchema> fixed_schema() {
    static const auto schema = [] {
        auto s = kasten::llm::JsonSchema::parse(R"({"type":"object","properties":{
            "name":{"type":"string","maxLength":8},"n":{"type":"integer"},"x":{"type":"number"},
            "ok":{"type":"boolean"},"tags":{"type":"array","items":{"enum":["a","b",1,null]},"maxItems":3},
            "z":{"type":"null"}},"required":["name"]})");
        if (!s.is_ok()) std::abort();
        return std::make_shared<const kasten::llm::JsonSchema>(std::move(s).value());
    }();
    return schema;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace kasten::llm;
    std::string_view text = kasten::fuzz::as_text(data, size);
    std::size_t nul = text.find('\0');
    std::string_view schema_text = nul == std::string_view::npos ? text : text.substr(0, nul);
    std::string_view feed = nul == std::string_view::npos ? text : text.substr(nul + 1);

    std::shared_ptr<const JsonSchema> schema = fixed_schema();
    auto parsed = JsonSchema::parse(schema_text);
    if (parsed.is_ok()) {
        schema = std::make_shared<const JsonSchema>(std::move(parsed).value());
    } else if (nul != std::string_view::npos) {
        return 0;
    }
    JsonGrammar grammar(schema);
    std::string fed;
    std::string key;
    std::size_t position = 0, refused = 0;
    for (char c : feed) {
        auto byte = static_cast<std::uint8_t>(c);
        bool allowed = grammar.accepts(byte);
        // next_bytes() tries all 256 bytes: checked on the first bytes and the first refused ones.
        if (position++ < 8 || (!allowed && refused < 4)) KASTEN_FUZZ_CHECK(allowed == grammar.next_bytes().test(byte));
        if (!allowed) ++refused;
        KASTEN_FUZZ_CHECK(grammar.feed(byte) == allowed);
        if (allowed) fed.push_back(c);
        // Past a few refused bytes the rest is noise to the grammar (refusals change nothing): stop there.
        if (!allowed && refused >= 8) break;
        KASTEN_FUZZ_CHECK((grammar.min_bytes_to_complete() == 0) == grammar.is_complete());
        key.clear();
        grammar.append_state_key(key);
    }
    if (grammar.is_complete()) {
        KASTEN_FUZZ_CHECK(nlohmann::json::accept(fed));
    }
    return 0;
}
