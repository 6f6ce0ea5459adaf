// Request bodies of kasten's own REST routes (api/dto/request_parser.h, api/dto/json_body.h). The first byte picks
// the route's parser, the rest is the body.
#include <cstddef>
#include <cstdint>

#include <nlohmann/json.hpp>

#include "api/dto/json_body.h"
#include "api/dto/request_parser.h"
#include "tests/fuzz/fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace kasten::api;
    auto [selector, body] = kasten::fuzz::select(data, size);
    RequestLimits limits;
    limits.max_content_chars = 2000;
    switch (selector % 7) {
        case 0:
            (void)parse_create_cube(body);
            break;
        case 1: {
            auto r = parse_add_memories(body, limits);
            if (r.is_ok()) KASTEN_FUZZ_CHECK(r.value().messages.has_value() != r.value().note.has_value());
            break;
        }
        case 2:
            (void)parse_note_patch(body, limits);
            break;
        case 3: {
            auto r = parse_search(body, limits);
            if (r.is_ok()) KASTEN_FUZZ_CHECK(r.value().top_k >= 1 && r.value().top_k <= limits.max_top_k);
            break;
        }
        case 4:
            (void)parse_context(body, limits);
            break;
        case 5: {
            auto r = parse_json_object<nlohmann::json>(body);
            if (r.is_ok()) KASTEN_FUZZ_CHECK(r.value().is_object());
            break;
        }
        default: {
            auto r = parse_json_object<nlohmann::ordered_json>(body);
            if (r.is_ok()) KASTEN_FUZZ_CHECK(json_nesting_depth(body) <= kMaxJsonDepth);
            break;
        }
    }
    return 0;
}
