#include "eval/retriever_order.h"

namespace kasten::eval {

std::vector<std::string> baseline_first(const std::vector<std::string>& requested) {
    std::vector<std::string> out;
    for (const auto& r : requested) {
        if (r == "bm25")
            out.insert(out.begin(), r);
        else
            out.push_back(r);
    }
    return out;
}

std::string retriever_label(const std::string& name) {
    return name == "bm25" ? "bm25 (baseline)" : name;
}

}  // namespace kasten::eval
