#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "llm/embedder.h"
#include "llm/language_model.h"

namespace kasten::memory {

// The answerer when there is no language model: it replies with the memories that best match the question, said
// plainly and marked as extractive. It reads the memories from the system messages it is given, in the context
// format of docs/context.md (ContextBuilder's text: "### Session <id> · <date>" headers, note lines "- …", turn lines
// {"role": …, "content": …}); the question is the last user message. Lines are scored by the idf-weighted share of
// the question's content words they contain (stopwords left out); the best three with any overlap are given, each
// with its session date, best first. When no line shares a word with the question and an embedder is given, the three
// lines closest to it in meaning (cosine) are given instead, said to be that. No memory at all: a reply that says so.
// It never invents text.
//
// chat() streams the reply line by line through on_token; complete() is kNotSupported (there is nothing to extract
// from a bare prompt). Thread-safe (stateless).
class ExtractiveAnswerer final : public llm::LanguageModel {
  public:
    // `embedder` (optional, shared): for the closest-in-meaning fallback.
    explicit ExtractiveAnswerer(std::shared_ptr<const llm::Embedder> embedder = nullptr)
        : embedder_(std::move(embedder)) {}

    static constexpr std::string_view kMarker = "(extractive answer: no language model is configured";

    std::string id() const override { return "extractive"; }
    Result<llm::Generation> chat(const std::vector<llm::ChatMessage>& messages, const llm::GenerationOptions& options,
                                 const llm::TokenCallback& on_token = {}) override;
    Result<llm::Generation> complete(std::string_view prompt, const llm::GenerationOptions& options,
                                     const llm::TokenCallback& on_token = {}) override;

  private:
    std::shared_ptr<const llm::Embedder> embedder_;
};

}  // namespace kasten::memory
