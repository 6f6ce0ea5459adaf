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

}  // namespace kasten::eval
