#pragma once

#include <cstdint>
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
};

// The non-streaming body: one choice with the whole text, finish_reason and usage (prompt, completion, total tokens).
std::string completion_body(const CompletionMeta& meta, const llm::Generation& generation);

// One SSE event carrying a JSON text: "data: <json>\n\n".
std::string sse_data(std::string_view json_text);
// The terminator: "data: [DONE]\n\n".
std::string sse_done();

// Streamed chunks as SSE events. Chat streams open with a chunk whose delta is {"role":"assistant","content":""};
// every piece is a chunk with delta {"content": piece} (chat) or text piece (completions) and finish_reason null; the
// last chunk has an empty delta / text and the finish_reason, and carries usage.
std::string stream_start_event(const CompletionMeta& meta);  // "" for text completions
std::string stream_piece_event(const CompletionMeta& meta, std::string_view piece);
std::string stream_finish_event(const CompletionMeta& meta, const llm::Generation& generation);
// An error after the stream started (the status line is already sent): data: {"error": {code, type, message}}.
std::string stream_error_event(int http_status, const Status& status);

}  // namespace kasten::api
