// HTTP request targets: "<METHOD> <path>[?<query>]" as the server receives them, through percent-decoding, the
// router and the query-parameter parsers (api/http/url.h, api/http/router.h, api/dto/request_parser.h).
#include <cstddef>
#include <cstdint>
#include <string>

#include "api/dto/request_parser.h"
#include "api/http/router.h"
#include "api/http/url.h"
#include "tests/fuzz/fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace kasten::api;
    static const Router router = Router::kasten_routes();
    std::string_view line = kasten::fuzz::as_text(data, size);
    std::size_t space = line.find(' ');
    std::string_view method = space == std::string_view::npos ? std::string_view("GET") : line.substr(0, space);
    std::string_view target = space == std::string_view::npos ? line : line.substr(space + 1);
    std::size_t question = target.find('?');
    std::string_view path = target.substr(0, question);
    std::string_view query = question == std::string_view::npos ? std::string_view() : target.substr(question + 1);

    auto segments = split_path(path);
    if (segments.is_ok()) {
        RouteLookup lookup = router.find(method, segments.value());
        if (lookup.outcome == RouteLookup::Outcome::kFound) KASTEN_FUZZ_CHECK(!lookup.pattern.empty());
        if (lookup.outcome == RouteLookup::Outcome::kMethodNotAllowed)
            KASTEN_FUZZ_CHECK(!lookup.allowed_methods.empty());
    }
    auto params = parse_query(query);
    if (params.is_ok()) {
        (void)check_query_names(params.value(), {"limit", "offset", "status"});
        (void)parse_paging(params.value());
        (void)parse_status_filter(params.value());
    }
    // Encoding then decoding gives the text back, for any bytes that decode at all.
    auto decoded = percent_decode(path, false);
    if (decoded.is_ok()) {
        auto again = percent_decode(percent_encode(decoded.value()), false);
        KASTEN_FUZZ_CHECK(again.is_ok() && again.value() == decoded.value());
    }
    return 0;
}
