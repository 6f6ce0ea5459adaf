#pragma once

#include <string>
#include <vector>

namespace kasten::eval {

// The order and labels of retrievers in evaluation reports: the bm25 baseline first, the others as requested.

// `requested` with "bm25" moved to the front (the others keep their relative order). Pure.
std::vector<std::string> baseline_first(const std::vector<std::string>& requested);

// The table label of a retriever: "bm25 (baseline)" for bm25, else the name. Pure.
std::string retriever_label(const std::string& name);

}  // namespace kasten::eval
