#include "api/cli/note_pipeline.h"

#include "memory/heuristic_link_decider.h"
#include "memory/heuristic_note_builder.h"
#include "memory/llm_link_decider.h"
#include "memory/llm_note_builder.h"

namespace kasten::api {

std::string NotePipeline::description() const {
    if (!builder) return "off";
    return builder->id() + " (links: " + (decider ? decider->id() : std::string("none")) + ")";
}

Result<NotePipeline> make_note_pipeline(const std::string& setting, std::shared_ptr<llm::LanguageModel> model) {
    NotePipeline p;
    if (setting == "off") return p;
    if (setting == "heuristic") {
        p.builder = std::make_shared<memory::HeuristicNoteBuilder>();
        p.decider = std::make_shared<memory::HeuristicLinkDecider>();
        return p;
    }
    if (setting == "llm") {
        if (!model) {
            return Status::failed_precondition(
                "notes = llm needs a language model, and only `kasten serve --model FILE.gguf` loads one; start the "
                "server with --model, or use --notes heuristic (the default) or --notes off");
        }
        p.builder = std::make_shared<memory::LlmNoteBuilder>(model);
        p.decider = std::make_shared<memory::LlmLinkDecider>(model);
        return p;
    }
    return Status::invalid_argument("notes: expected heuristic, llm or off, got '" + setting + "'");
}

}  // namespace kasten::api
