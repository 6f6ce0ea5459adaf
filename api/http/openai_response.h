#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "common/status.h"
#include "llm/language_model.h"

namespace kasten::api {

// The OpenAI response shapes of /v1/chat/completions ("chat.completion", "chat.completion.chunk") and
// /v1/completions ("text_completion"), and their Server-Sent Events framing. Invalid UTF-8 in generated text is
// replaced (U+FFFD), so none of these fail. Thread-safe (pure functions).
enum class CompletionKind { kChat, kText };

struct CompletionMeta {
    CompletionKind kind = CompletionKind::kChat;
    std::string id;            // "chatcmpl-…" / "cmpl-…"
    std::int64_t created = 0;  // Unix seconds
    std::string model;         // LanguageModel::id()
    bool logprobs = false;     // the request asked for log-probabilities: choices carry them (else "logprobs": null)
};

// The non-streaming body: one choice with the whole text, finish_reason, logprobs and usage (prompt, completion,
// total tokens). Log-probabilities come in OpenAI's shape per kind: chat {"content": [{token, logprob, bytes,
// top_logprobs: [{token, logprob, bytes}]}], "refusal": null}; text {tokens, token_logprobs, top_logprobs: [{token:
// logprob}], text_offset}.
std::string completion_body(const CompletionMeta& meta, const llm::Generation& generation);

// One SSE event carrying a JSON text: "data: <json>\n\n".
std::string sse_data(std::string_view json_text);
// The terminator: "data: [DONE]\n\n".
std::string sse_done();

// Streamed chunks as SSE events. Chat streams open with a chunk whose delta is {"role":"assistant","content":""};
// every piece is a chunk with delta {"content": piece} (chat) or text piece (completions), the log-probabilities of
// the tokens starting in it (when meta.logprobs) and finish_reason null; the finishing chunk has an empty delta /
// text and the finish_reason. As in the OpenAI API, chunks carry no usage; with stream_options.include_usage a last
// chunk with "choices": [] and the usage follows the finishing chunk (stream_usage_event).
std::string stream_start_event(const CompletionMeta& meta);  // "" for text completions
std::string stream_piece_event(const CompletionMeta& meta, std::string_view piece,
                               std::span<const llm::TokenLogprob> logprobs = {});
std::string stream_finish_event(const CompletionMeta& meta, const llm::Generation& generation);
std::string stream_usage_event(const CompletionMeta& meta, const llm::Generation& generation);
// An error after the stream started (the status line is already sent): data: {"error": {code, type, message}}.
std::string stream_error_event(int http_status, const Status& status);

}  // namespace kasten::api
