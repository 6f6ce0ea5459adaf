#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "llm/chat_template.h"

namespace kasten::llm {

// ChatMessage {role: system | user | assistant, content} is defined with the chat templates that render it.

struct GenerationOptions {
    int max_tokens = 256;
    double temperature = 0.0;  // 0 = greedy
    double top_p = 1.0;
    int top_k = 0;             // 0 = off
    std::uint64_t seed = 0;
    double min_p = 0.0;           // 0 = off (embedded model; llama.cpp servers accept it too)
    double repeat_penalty = 1.0;  // 1 = off (embedded model; llama.cpp servers accept it too)
    std::vector<std::string> stop;           // generation ends before any of these strings
    std::optional<std::string> json_schema;  // constrain the output to JSON of this schema (where supported)
};

struct Generation {
    std::string text;
    int prompt_tokens = 0;
    int completion_tokens = 0;
    std::string finish_reason;  // stop | length
};

// Receives each piece of text as it is generated; returning false stops the generation.
using TokenCallback = std::function<bool(std::string_view piece)>;

// A text generator: the embedded GGUF decoder, or any OpenAI-compatible HTTP endpoint. Evaluation readers and
// judges, note construction and the chat endpoint all talk to this interface. Implementations state their thread
// safety; callers that share one across threads must check it.
class LanguageModel {
public:
    virtual ~LanguageModel() = default;
    // Identifies the model (e.g. "gguf:stories260K", "openai:gpt-4o-2024-08-06") in reports and caches.
    virtual std::string id() const = 0;
    // Chat completion: the messages are formatted with the model's chat template.
    virtual Result<Generation> chat(const std::vector<ChatMessage>& messages, const GenerationOptions& options,
                                    const TokenCallback& on_token = {}) = 0;
    // Raw text completion of `prompt`.
    virtual Result<Generation> complete(std::string_view prompt, const GenerationOptions& options,
                                        const TokenCallback& on_token = {}) = 0;
};

}  // namespace kasten::llm
