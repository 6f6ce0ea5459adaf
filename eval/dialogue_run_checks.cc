#include "eval/dialogue_run_checks.h"

#include <algorithm>
#include <set>

#include "eval/kasten_retriever_spec.h"
#include "memory/memory_manager.h"

namespace kasten::eval {

Status check_dialogue_retrievers(const std::vector<std::string>& retrievers, bool has_embedder, bool has_notes) {
    if (retrievers.empty()) return Status::invalid_argument("no retriever given");
    std::set<std::string> seen;
    for (const auto& r : retrievers) {
        KastenRetrieverSpec kr;
        if (r != "bm25" && !parse_kasten_retriever_spec(r, &kr)) {
            return Status::invalid_argument("unknown retriever '" + r +
                                            "' (available: bm25, lexical, vector, hybrid, each kasten one also with "
                                            "+notes)");
        }
        if (r != "bm25" && kr.notes && !has_notes) {
            return Status::invalid_argument("retriever '" + r + "' needs a note builder and link decider");
        }
        if (!seen.insert(r).second) return Status::invalid_argument("retriever '" + r + "' given twice");
        if (r != "bm25" && !has_embedder) return Status::invalid_argument("kasten retrievers need an embedder");
    }
    return Status::ok();
}

Status check_reader_settings(int top_k, const std::vector<std::string>& contexts, const std::string& reader_retriever,
                             const std::vector<std::string>& retrievers) {
    if (top_k < 1) return Status::invalid_argument("reader top-k must be at least 1");
    for (const auto& c : contexts) {
        if (c != "retrieval" && c != "full") return Status::invalid_argument("unknown reader context '" + c + "'");
    }
    if (!reader_retriever.empty() &&
        std::find(retrievers.begin(), retrievers.end(), reader_retriever) == retrievers.end()) {
        return Status::invalid_argument("the reader's retriever '" + reader_retriever + "' is not in the run");
    }
    return Status::ok();
}

}  // namespace kasten::eval
