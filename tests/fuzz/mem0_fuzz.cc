// Mem0-compatible request bodies and filters (api/dto/mem0_codec.h, api/dto/mem0_filter.h, api/dto/mem0_scope.h).
// The first byte picks the parser, the rest is the body.
#include <cstddef>
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "api/dto/json_body.h"
#include "api/dto/mem0_codec.h"
#include "api/dto/mem0_filter.h"
#include "api/dto/mem0_scope.h"
#include "tests/fuzz/fuzz_input.h"

namespace {

// A memory every parsed filter is evaluated against.
kasten::api::mem0::FilterSubject sample_subject() {
    kasten::api::mem0::FilterSubject s;
    s.id = "n_0001";
    s.memory = "Alice likes green tea";
    s.scope.entities.user_id = "alice";
    s.scope.entities.run_id = "run-1";
    s.scope.metadata = nlohmann::json{{"topic", "drinks"}, {"n", 3}};
    s.scope.categories = {"food", "preferences"};
    s.created_at = 1700000000000;
    s.updated_at = 1700000500000;
    return s;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace kasten::api;
    static const mem0::FilterSubject subject = sample_subject();
    auto [selector, body] = kasten::fuzz::select(data, size);
    RequestLimits limits;
    limits.max_content_chars = 2000;
    switch (selector % 6) {
        case 0: {
            auto r = mem0::parse_add(body, limits);
            if (r.is_ok() && r.value().entities.any()) (void)mem0::cube_for(r.value().entities);
            break;
        }
        case 1: {
            auto r = mem0::parse_search(body, limits);
            if (r.is_ok()) {
                (void)r.value().filter.matches(subject);
                (void)r.value().filter.required_entities();
            }
            break;
        }
        case 2: {
            auto r = mem0::parse_get_all(body);
            if (r.is_ok()) (void)r.value().matches(subject);
            break;
        }
        case 3:
            (void)mem0::parse_update(body, limits);
            break;
        case 4: {
            // A bare filter, as the "filters" member holds it.
            auto j = parse_json_object<nlohmann::json>(body);
            if (!j.is_ok()) break;
            auto f = mem0::Mem0Filter::parse(j.value());
            if (f.is_ok()) {
                (void)f.value().matches(subject);
                mem0::Mem0Filter both = f.value();
                both.require(f.value());
                KASTEN_FUZZ_CHECK(both.matches(subject) == f.value().matches(subject));
            }
            break;
        }
        default: {
            // Entity ids map to cube ids one to one.
            std::string escaped = mem0::escape_id(body);
            auto back = mem0::unescape_id(escaped);
            KASTEN_FUZZ_CHECK(back.has_value() && *back == body);
            (void)mem0::unescape_id(body);
            (void)mem0::entity_of_cube(body);
            break;
        }
    }
    return 0;
}
