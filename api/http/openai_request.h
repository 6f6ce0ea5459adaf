#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "llm/chat_template.h"
#include "llm/language_model.h"

namespace kasten::api {

// Limits of the OpenAI-compatible routes.
struct CompletionLimits {
    int max_tokens = 4096;         // largest accepted max_tokens
    int default_max_tokens = 256;  // when the request gives none
};

// POST /v1/chat/completions (messages set) or POST /v1/completions (prompt set), parsed.
struct CompletionRequest {
    std::string model;                       // as sent ("" when absent); informational, any value is accepted
    std::vector<llm::ChatMessage> messages;  // chat only: at least one
    std::string prompt;                      // completions only
    bool stream = false;
    llm::GenerationOptions options;  // max_tokens, temperature, top_p, seed, stop
};

// Strict parsing of the OpenAI-compatible request bodies, with the rules of the other routes (request_parser.h): one
// JSON object, unknown fields rejected (kInvalidArgument naming the field), null = absent, exact types.
// Accepted fields: model (string), messages (chat; [{role: system|user|assistant, content: string}], 1..1000) or
// prompt (completions; string), max_tokens (integer 1..limits.max_tokens), temperature (number 0..2; default 1 as in
// the OpenAI API), top_p (number in (0, 1]), stream (boolean), stop (string or array of at most 4 non-empty
// strings), seed (integer >= 0). Thread-safe (pure functions).
Result<CompletionRequest> parse_chat_completion_request(std::string_view body, const CompletionLimits& limits);
Result<CompletionRequest> parse_completion_request(std::string_view body, const CompletionLimits& limits);

}  // namespace kasten::api
