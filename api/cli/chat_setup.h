#pragma once

#include <memory>
#include <string>
#include <vector>

#include "api/cli/arg_parser.h"
#include "common/result.h"
#include "llm/embedded_language_model.h"
#include "llm/language_model.h"
#include "memory/memory_chat.h"

namespace kasten::api {

// Which answerer a chat uses: the embedded GGUF model (--model), a remote OpenAI-compatible endpoint (--upstream URL
// --upstream-model M), or, with neither, the extractive answerer (memory/extractive_answerer.h).
enum class AnswererKind { kEmbedded, kUpstream, kExtractive };

struct ChatSetup {
    AnswererKind kind = AnswererKind::kExtractive;
    std::shared_ptr<llm::LanguageModel> model;  // never null
    memory::MemoryChatOptions memory;           // context budget and token counter for this answerer
    int n_ctx = 0;                              // the embedded model's context in tokens (0 for the others)
    // "gguf:… (embedded)", "openai:M at URL (upstream)", "extractive, no model" — for banners and logs.
    std::string description;
};

// The flags make_chat_setup reads: upstream, upstream-model, upstream-key-env, context-budget, context-strategy.
std::vector<FlagSpec> chat_setup_flags();

// Builds the answerer from the flags and the already opened embedded model (null without --model). The context
// budget defaults to half the embedded model's context (at most 2048 tokens, counted with its tokenizer), 4096
// estimated tokens for an upstream model and 2048 for the extractive answerer. kInvalidArgument for bad flags
// (--upstream with --model, --upstream-model without --upstream, ...).
// `embedder` (the memory's) lets the extractive answerer fall back to memories close in meaning.
[[nodiscard]] Result<ChatSetup> make_chat_setup(const ParsedArgs& args,
                                                std::shared_ptr<llm::EmbeddedLanguageModel> embedded,
                                                std::shared_ptr<const llm::Embedder> embedder);

}  // namespace kasten::api
