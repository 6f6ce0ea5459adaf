// Time expressions in queries and conversation text (memory/relative_date_resolver.h, memory/query_time_windows.h).
// The first four bytes pick the conversation time (a day between 1970 and 2106), the rest is the text. Mentions are
// in order, non-overlapping and inside the text; windows are non-empty.
#include <cstddef>
#include <cstdint>
#include <string>

#include "memory/query_time_windows.h"
#include "memory/relative_date_resolver.h"
#include "tests/fuzz/fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace kasten::memory;
    std::uint32_t seconds = 0;
    std::size_t head = size < 4 ? size : 4;
    for (std::size_t i = 0; i < head; ++i) seconds |= static_cast<std::uint32_t>(data[i]) << (8 * i);
    const kasten::TimeMs conv_time = static_cast<kasten::TimeMs>(seconds) * 1000;
    std::string_view text = kasten::fuzz::as_text(data + head, size - head);

    auto mentions = RelativeDateResolver::resolve(text, conv_time);
    std::size_t last_end = 0;
    for (const auto& m : mentions) {
        KASTEN_FUZZ_CHECK(m.begin >= last_end && m.begin < m.end && m.end <= text.size());
        last_end = m.end;
        KASTEN_FUZZ_CHECK(!RelativeDateResolver::label(m).empty());
    }
    std::string annotated = RelativeDateResolver::annotate(text, mentions);
    KASTEN_FUZZ_CHECK(annotated.size() >= text.size());
    for (const auto& w : query_time_windows(text, conv_time)) KASTEN_FUZZ_CHECK(w.from <= w.to);
    return 0;
}
