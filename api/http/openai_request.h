#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "llm/chat_template.h"
#include "llm/language_model.h"

namespace kasten::api {

// Limits of the OpenAI-compatible routes.
struct CompletionLimits {
    int max_tokens = 4096;         // largest accepted max_tokens / max_completion_tokens
    int default_max_tokens = 256;  // when the request gives none
};

// POST /v1/chat/completions (messages set) or POST /v1/completions (prompt set), parsed.
struct CompletionRequest {
    std::string model;                       // as sent ("" when absent); informational, any value is accepted
    std::vector<llm::ChatMessage> messages;  // chat only: at least one
    std::string prompt;                      // completions only
    bool stream = false;
    bool include_usage = false;  // stream_options.include_usage: a last chunk with usage and no choices
    bool echo = false;           // completions only: the prompt is put before the generated text
    std::string user;            // OpenAI's end-user identifier ("" when absent)
    std::map<std::string, std::string> metadata;  // chat only: OpenAI's string → string tags
    // max_tokens, temperature, top_p, seed, stop, penalties, logit_bias, logprobs, json_schema.
    llm::GenerationOptions options;
};

// Strict parsing of the OpenAI request bodies, with the rules of the other routes (request_parser.h): one JSON
// object, null = absent, exact types, fields outside the OpenAI API rejected (kInvalidArgument naming the field).
// Every field of the OpenAI chat-completions and (legacy) completions requests is known; docs/api.md lists which
// are implemented, which are accepted and ignored, and which values are refused (kInvalidArgument saying why):
//   implemented: model (informational), messages (roles system, developer = system, user, assistant, tool,
//     function; content a string or an array of text parts), prompt (a string or an array of one string),
//     max_tokens and max_completion_tokens (1..limits.max_tokens; both given: the smaller), temperature (0..2,
//     default 1), top_p ((0, 1]), stream, stream_options.include_usage (stream only), stop (a string or up to 4),
//     seed (>= 0), n and best_of (1 only), frequency_penalty and presence_penalty (-2..2), logit_bias (token id →
//     -100..100), logprobs + top_logprobs (chat: boolean + 0..20; completions: integer 0..5), response_format
//     (text | json_object | json_schema, the schema checked against llm::JsonSchema's subset), echo (completions,
//     not with logprobs), user, metadata (string → string).
//   accepted and ignored: store, parallel_tool_calls, tool_choice "none" / "auto", function_call "none" / "auto",
//     tools and functions when empty, prediction, reasoning_effort, service_tier, verbosity, prompt_cache_key,
//     prompt_cache_retention, prompt_cache_options, safety_identifier, moderation, stream_options.include_obfuscation,
//     modalities ["text"], suffix "", message name, assistant tool_calls / refusal / audio, tool_call_id.
//   refused: n or best_of > 1, non-empty tools / functions (no chat template with a tool-calling format), tool_choice
//     "required" or naming a function, audio output (audio, modalities with "audio"), web_search_options, image /
//     audio / file content parts, a non-empty suffix, token-id prompts, several prompts.
// Thread-safe (pure functions).
Result<CompletionRequest> parse_chat_completion_request(std::string_view body, const CompletionLimits& limits);
Result<CompletionRequest> parse_completion_request(std::string_view body, const CompletionLimits& limits);

}  // namespace kasten::api
