// Search queries through the lexical index's query building (retrieval/lexical_index.h: Xapian's boolean syntax
// when it parses, else an OR of the words) and text analysis, against a small in-memory index. Results come only
// from the filtered cube, each once.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <set>
#include <string>

#include "retrieval/lexical_index.h"
#include "tests/fuzz/fuzz_input.h"

namespace {

std::unique_ptr<kasten::retrieval::LexicalIndex> make_index() {
    using namespace kasten::retrieval;
    auto index = LexicalIndex::in_memory();
    const char* texts[] = {"I cooked pasta with my sister last Tuesday",     "Bob's new job starts in March",
                           "We talked about hiking AND camping NOT fishing", "東京で寿司を食べました",
                           "The dog's name is Rex; he is 3 years old",       "C++ and Rust (both compiled) + more"};
    int i = 0;
    for (const char* text : texts) {
        UnitAttrs attrs;
        attrs.cube_id = i % 2 ? "other" : "alice";
        attrs.type = UnitType::kTurn;
        attrs.id = "t" + std::to_string(i);
        attrs.time = 1700000000000 + i;
        attrs.role = "user";
        attrs.session_id = "s1";
        if (!index->upsert(attrs, text).is_ok()) std::abort();
        ++i;
    }
    return index;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace kasten::retrieval;
    static const std::unique_ptr<LexicalIndex> index = make_index();
    std::string_view query = kasten::fuzz::as_text(data, size);
    SearchFilter filter;
    filter.cube_id = "alice";
    filter.type = UnitType::kTurn;
    auto hits = index->search(query, filter, 10);
    KASTEN_FUZZ_CHECK(hits.is_ok());
    std::set<std::string> seen;
    for (const auto& hit : hits.value()) {
        KASTEN_FUZZ_CHECK(hit.id == "t0" || hit.id == "t2" || hit.id == "t4");
        KASTEN_FUZZ_CHECK(seen.insert(hit.id).second);
    }
    auto terms = LexicalIndex::analyze(query);
    KASTEN_FUZZ_CHECK(index->search_terms(terms, filter, 10).is_ok());
    (void)LexicalIndex::analyze_text(query);
    return 0;
}
