// OpenAI-compatible request bodies (api/http/openai_request.h): the first byte picks chat or legacy completions.
#include <cstddef>
#include <cstdint>

#include "api/http/openai_request.h"
#include "tests/fuzz/fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace kasten::api;
    auto [selector, body] = kasten::fuzz::select(data, size);
    CompletionLimits limits;
    auto r = (selector & 1) ? parse_completion_request(body, limits) : parse_chat_completion_request(body, limits);
    if (r.is_ok()) {
        if (selector & 1) {
            KASTEN_FUZZ_CHECK(r.value().messages.empty());
        } else {
            KASTEN_FUZZ_CHECK(!r.value().messages.empty());
        }
    }
    return 0;
}
