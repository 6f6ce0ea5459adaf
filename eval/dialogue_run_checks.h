#pragma once

#include <string>
#include <vector>

#include "common/status.h"

namespace kasten::eval {

// Checks of the options the dialogue benchmark runners (LoCoMo, ConvoMem) share. Pure; kInvalidArgument naming the
// first offending value.

// `retrievers` non-empty, each "bm25" or a kasten retriever name (lexical, vector, hybrid), none twice; kasten
// retrievers only with an embedder.
[[nodiscard]] Status check_dialogue_retrievers(const std::vector<std::string>& retrievers, bool has_embedder,
                                               bool has_notes = false);

// The reader settings: top_k >= 1, contexts among "retrieval" | "full", and `reader_retriever` ("" = none) one of
// the run's `retrievers`.
[[nodiscard]] Status check_reader_settings(int top_k, const std::vector<std::string>& contexts,
                                           const std::string& reader_retriever,
                                           const std::vector<std::string>& retrievers);

}  // namespace kasten::eval
