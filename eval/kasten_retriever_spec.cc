#include "eval/kasten_retriever_spec.h"

namespace kasten::eval {

bool parse_kasten_retriever_spec(const std::string& name, KastenRetrieverSpec* out) {
    static constexpr std::string_view kSuffix = "+notes";
    std::string base = name;
    bool notes = false;
    if (base.size() > kSuffix.size() && base.ends_with(kSuffix)) {
        base.resize(base.size() - kSuffix.size());
        notes = true;
    }
    memory::Retriever r;
    if (!memory::parse_retriever(base, &r)) return false;
    out->retriever = r;
    out->notes = notes;
    return true;
}

bool needs_notes(const std::vector<std::string>& retrievers) {
    KastenRetrieverSpec spec;
    for (const auto& r : retrievers) {
        if (parse_kasten_retriever_spec(r, &spec) && spec.notes) return true;
    }
    return false;
}

std::string describe_with_notes(const std::string& name, std::string (*describe)(const std::string&)) {
    static constexpr std::string_view kSuffix = "+notes";
    KastenRetrieverSpec spec;
    if (!parse_kasten_retriever_spec(name, &spec) || !spec.notes) return describe(name);
    return describe(name.substr(0, name.size() - kSuffix.size())) +
           "; plus the haystack's notes (heuristic builder, built after ingest) as extra keys: a session adds 0.5 x "
           "the best score of its notes, a turn takes the better of its own score and its notes'";
}

}  // namespace kasten::eval
