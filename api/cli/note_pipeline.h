#pragma once

#include <memory>
#include <string>

#include "common/result.h"
#include "llm/language_model.h"
#include "memory/link_decider.h"
#include "memory/note_builder.h"

namespace kasten::api {

// The note builder and link decider the `notes` setting (common/config.h) asks for; both null when notes are off.
struct NotePipeline {
    std::shared_ptr<memory::NoteBuilder> builder;
    std::shared_ptr<memory::LinkDecider> decider;

    bool enabled() const { return builder != nullptr; }
    // For logs and /healthz: "heuristic-v1 (links: heuristic-v1)", or "off".
    std::string description() const;
};

// "heuristic": HeuristicNoteBuilder + HeuristicLinkDecider (no model). "llm": LlmNoteBuilder + LlmLinkDecider over
// `model`, which is shared with whoever else uses it (the model must be safe to call from the job thread while
// others call it; EmbeddedLanguageModel serialises its calls). "off": an empty pipeline.
// Errors: kFailedPrecondition for "llm" without a model (the message says how to get one); kInvalidArgument for
// any other setting.
Result<NotePipeline> make_note_pipeline(const std::string& setting, std::shared_ptr<llm::LanguageModel> model);

}  // namespace kasten::api
