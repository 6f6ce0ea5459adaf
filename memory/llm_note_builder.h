#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/result.h"
#include "llm/language_model.h"
#include "memory/note_builder.h"
#include "memory/term_statistics.h"

namespace kasten::memory {

struct LlmNoteBuilderOptions {
    int max_tokens = 768;  // completion tokens per call
    // Target size of one call's prompt (system + user message) in bytes. A batch whose prompt would be larger is
    // split into several calls, in conversation order; a single turn too long for the budget is truncated (to at
    // least kMinTurnBytes of its content, so a tiny budget still shows every turn). Below twice the size of the full
    // instructions (about 2 KB) a compact version of them is sent, for small context windows.
    std::size_t prompt_char_budget = 6000;
    double temperature = 0.0;  // 0 = greedy
    std::uint64_t seed = 0;
    int max_notes = 8;  // per call: the schema's maxItems
};

// NoteBuilder backed by a LanguageModel (A-MEM note construction merged with Mem0 fact extraction): one chat call
// per batch (per chunk when the batch exceeds the prompt budget) whose output is constrained by a JSON schema that
// admits only the batch's own turn ids as sources. The reply is validated whatever the model did: notes without
// content or without a known source turn are dropped, labels are normalised and capped, dates are checked against
// the calendar. A reply that is not the expected JSON yields no drafts (and a warning), not an error.
//
// Thread safety: build() is as thread-safe as the model's chat(); the builder holds no mutable state.
class LlmNoteBuilder final : public NoteBuilder {
  public:
    static constexpr std::size_t kMinTurnBytes = 64;
    static constexpr int kMaxKeywords = 8;
    static constexpr int kMaxTags = 5;
    static constexpr int kMaxContentChars = 300;  // code points
    static constexpr int kMaxContextChars = 200;  // code points
    static constexpr int kMaxLabelChars = 40;     // code points, per keyword or tag

    // `model` must not be null.
    explicit LlmNoteBuilder(std::shared_ptr<llm::LanguageModel> model, LlmNoteBuilderOptions options = {});

    // "llm:<model id>".
    std::string id() const override;

    // Errors: the model's Status (with context) when a call fails; nothing else.
    [[nodiscard]] Result<std::vector<NoteDraft>> build(const NoteBatch& batch, const TermStatistics& stats) override;

    // The JSON schema sent with a call citing `turn_ids` (compact JSON text).
    std::string json_schema(const std::vector<std::string>& turn_ids) const;

  private:
    std::shared_ptr<llm::LanguageModel> model_;
    LlmNoteBuilderOptions options_;
};

}  // namespace kasten::memory
