#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "llm/language_model.h"

namespace kasten::memory {

// The answerer when there is no language model: it replies with the memories that best match the question, said
// plainly and marked as extractive. It reads the memories from the system messages it is given, in the context
// format of docs/context.md (ContextBuilder's text: "### Session <id> · <date>" headers, note lines "- …", turn lines
// {"role": …, "content": …}); the question is the last user message. Lines are scored by the idf-weighted share of
// the question's content words they contain (stopwords left out); the best three with any overlap are given, each
// with its session date, best first. Nothing matching: a reply that says so. It never invents text.
//
// chat() streams the reply line by line through on_token; complete() is kNotSupported (there is nothing to extract
// from a bare prompt). Thread-safe (stateless).
class ExtractiveAnswerer final : public llm::LanguageModel {
  public:
    static constexpr std::string_view kMarker = "(extractive answer: no language model is configured";

    std::string id() const override { return "extractive"; }
    Result<llm::Generation> chat(const std::vector<llm::ChatMessage>& messages, const llm::GenerationOptions& options,
                                 const llm::TokenCallback& on_token = {}) override;
    Result<llm::Generation> complete(std::string_view prompt, const llm::GenerationOptions& options,
                                     const llm::TokenCallback& on_token = {}) override;
};

}  // namespace kasten::memory
