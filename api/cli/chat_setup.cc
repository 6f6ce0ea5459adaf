#include "api/cli/chat_setup.h"

#include <algorithm>

#include "api/cli/command.h"
#include "llm/openai_client.h"
#include "memory/extractive_answerer.h"
#include "memory/token_counter.h"

namespace kasten::api {

std::vector<FlagSpec> chat_setup_flags() {
    return {{"upstream", "URL", "answer with this OpenAI-compatible endpoint (e.g. http://127.0.0.1:11434/v1)"},
            {"upstream-model", "M", "the model name sent upstream (required with --upstream)"},
            {"upstream-key-env", "VAR", "environment variable holding the upstream API key (default OPENAI_API_KEY)"},
            {"context-budget", "N", "tokens of memory given to the model per exchange"},
            {"context-strategy", "S", "auto | turn | session | note: what the memory context is packed from"}};
}

Result<ChatSetup> make_chat_setup(const ParsedArgs& args, std::shared_ptr<llm::EmbeddedLanguageModel> embedded,
                                  std::shared_ptr<const llm::Embedder> embedder) {
    ChatSetup setup;
    const auto upstream = args.get("upstream");
    if (args.has("upstream-model") && !upstream)
        return Status::invalid_argument("--upstream-model goes with --upstream");
    if (args.has("upstream-key-env") && !upstream) {
        return Status::invalid_argument("--upstream-key-env goes with --upstream");
    }
    int budget = 2048;
    if (upstream) {
        if (embedded) return Status::invalid_argument("--upstream and --model exclude each other: pick one answerer");
        if (upstream->empty()) return Status::invalid_argument("--upstream needs a URL");
        const auto model = args.get("upstream-model");
        if (!model || model->empty()) return Status::invalid_argument("--upstream needs --upstream-model M");
        llm::OpenAiClientOptions o;
        o.base_url = *upstream;
        o.model = *model;
        if (auto env = args.get("upstream-key-env")) o.api_key_env = *env;
        o.max_retries = 1;
        KASTEN_ASSIGN_OR_RETURN(auto client, llm::OpenAiClient::create(o));
        setup.kind = AnswererKind::kUpstream;
        setup.model = std::shared_ptr<llm::LanguageModel>(std::move(client));
        setup.description = setup.model->id() + " at " + *upstream + " (upstream)";
        budget = 4096;
    } else if (embedded) {
        setup.kind = AnswererKind::kEmbedded;
        setup.model = embedded;
        setup.memory.counter = std::make_shared<memory::TokenizerTokenCounter>(
            std::shared_ptr<const llm::Tokenizer>(embedded, &embedded->tokenizer()));
        setup.description = embedded->id() + " (embedded, context " + std::to_string(embedded->n_ctx()) + " tokens)";
        // Half of what the KV cache holds (an evicting cache keeps fewer tokens than the context).
        budget = std::clamp(std::min(embedded->n_ctx(), embedded->kv_tokens()) / 2, 16, 2048);
        setup.n_ctx = embedded->n_ctx();
    } else {
        setup.kind = AnswererKind::kExtractive;
        setup.model = std::make_shared<memory::ExtractiveAnswerer>(embedder);
        setup.description = "extractive, no model";
    }
    if (auto b = args.get("context-budget")) {
        KASTEN_ASSIGN_OR_RETURN(budget, parse_int_flag("context-budget", *b, 1, 1 << 20));
    }
    setup.memory.context_budget = budget;
    if (auto s = args.get("context-strategy")) {
        if (!memory::parse_context_strategy(*s, &setup.memory.strategy)) {
            return Status::invalid_argument("--context-strategy must be auto, turn, session or note");
        }
    }
    return setup;
}

}  // namespace kasten::api
