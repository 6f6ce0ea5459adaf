#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/result.h"
#include "llm/language_model.h"
#include "memory/link_decider.h"
#include "store/records.h"

namespace kasten::memory {

struct LlmLinkDeciderOptions {
    int max_tokens = 512;  // completion tokens per call
    // Target size of the prompt (system + user message) in bytes: note contents and contexts are shortened to fit,
    // and the last (farthest) neighbours are left out when even that is not enough (at least one is always shown).
    // Below twice the size of the full instructions (about 1.2 KB) a compact version of them is sent.
    std::size_t prompt_char_budget = 6000;
    double temperature = 0.0;  // 0 = greedy
    std::uint64_t seed = 0;
};

// LinkDecider backed by a LanguageModel (A-MEM linking and memory evolution in one call): the new note and its
// neighbours are shown with their ids; the reply, constrained by a JSON schema whose only admissible ids are the
// shown neighbours' and whose decision list has one item per shown neighbour, gives per neighbour a relation
// (none | related | supports | updates | contradicts | follows), a short reason, and optionally new tags and context
// for it. The reply is validated whatever the model did: unknown ids are
// dropped, the first decision per neighbour wins, "none" and unknown relations make no link, empty or unchanged
// tags/context make no rewrite. Link weight: 1 for updates/contradicts, else the neighbour's cosine clamped to
// [kMinWeight, 1]. A reply that is not the expected JSON gives an empty plan (and a warning), not an error.
//
// Thread safety: decide() is as thread-safe as the model's chat(); the decider holds no mutable state.
class LlmLinkDecider final : public LinkDecider {
  public:
    static constexpr double kMinWeight = 0.01;
    static constexpr int kMaxReasonChars = 120;  // code points
    static constexpr int kMaxTags = 5;
    static constexpr int kMaxContextChars = 200;  // code points
    static constexpr int kMaxLabelChars = 40;     // code points, per tag

    // `model` must not be null.
    explicit LlmLinkDecider(std::shared_ptr<llm::LanguageModel> model, LlmLinkDeciderOptions options = {});

    // "llm:<model id>".
    std::string id() const override;

    // With no neighbours: an empty plan, without calling the model. Errors: the model's Status (with context).
    [[nodiscard]] Result<LinkPlan> decide(const store::NoteRecord& new_note,
                                          const std::vector<NeighbourNote>& neighbours) override;

    // The JSON schema sent with a call showing the neighbours `neighbour_ids` (compact JSON text).
    static std::string json_schema(const std::vector<std::string>& neighbour_ids);

  private:
    std::shared_ptr<llm::LanguageModel> model_;
    LlmLinkDeciderOptions options_;
};

}  // namespace kasten::memory
