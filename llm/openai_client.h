#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "llm/language_model.h"

namespace kasten::llm {

// Where and how an OpenAiClient talks to its server.
struct OpenAiClientOptions {
    // The API root, e.g. "https://api.openai.com/v1" or "http://127.0.0.1:8080/v1". A URL without a path (or with
    // "/") gets "/v1" appended; any other path is used as given. Requests go to <base>/chat/completions and
    // <base>/completions.
    std::string base_url;
    std::string model;  // sent as "model"; required
    // The API key is read from this environment variable at create() time; unset or empty = no Authorization
    // header (local servers need none). An empty name disables the lookup.
    std::string api_key_env = "OPENAI_API_KEY";
    // Overrides the environment when non-empty.
    std::string api_key;
    int connect_timeout_ms = 10000;
    int request_timeout_ms = 300000;  // whole request, including generation
    // Retries after a 429, a 5xx or a network error (refused, reset, timed out), with exponential backoff:
    // initial_backoff_ms · 2^attempt, capped at max_backoff_ms; a Retry-After header (seconds) on 429/503 wins when
    // it asks for longer (still capped). Other errors are not retried.
    int max_retries = 4;
    int initial_backoff_ms = 500;
    int max_backoff_ms = 30000;
};

// Counters since creation (for reports).
struct OpenAiClientStats {
    std::int64_t requests = 0;  // HTTP attempts, retries included
    std::int64_t retries = 0;
    std::int64_t failures = 0;  // calls that returned an error
    std::int64_t prompt_tokens = 0;
    std::int64_t completion_tokens = 0;
};

// A LanguageModel behind any OpenAI-compatible HTTP endpoint (OpenAI, llama.cpp server, vLLM, kasten serve):
// chat() posts to /chat/completions, complete() to /completions. With an on_token callback the request is streamed
// (server-sent events, with stream_options.include_usage so the usage arrives) and each content delta is handed to
// the callback; returning false ends the generation (finish_reason "stop"). Without a callback the response is read
// whole.
//
// GenerationOptions map to the request as: max_tokens, temperature, top_p (when < 1), top_k (when > 0; a llama.cpp /
// vLLM extension), seed (when non-zero), stop (when non-empty), frequency_penalty / presence_penalty (when non-zero),
// logit_bias (when non-empty; ids are the remote model's), json_schema → response_format {"type":
// "json_schema", ...} (must be valid JSON, else kInvalidArgument). logprobs are not requested (Generation::logprobs
// stays empty).
//
// Errors: kInvalidArgument (HTTP 400/413/422, bad options), kUnauthenticated (401), kPermissionDenied (403),
// kNotFound (404: unknown model or path), kResourceExhausted (429 after the retries), kBusy (503 after the
// retries), kInternal (other 5xx after the retries, or a response that is not the expected JSON), kIOError (network
// failure or timeout after the retries). The message names the URL, the HTTP status and the server's error
// message. The key never appears in messages or logs.
//
// Thread-safe: each call uses its own curl handle, so one client may serve many threads at once.
class OpenAiClient final : public LanguageModel {
  public:
    // kInvalidArgument for an empty model, a base URL that is not http:// or https://, or negative timeouts.
    [[nodiscard]] static Result<std::unique_ptr<OpenAiClient>> create(OpenAiClientOptions options);
    ~OpenAiClient() override;

    // "openai:<model>".
    std::string id() const override;
    Result<Generation> chat(const std::vector<ChatMessage>& messages, const GenerationOptions& options,
                            const TokenCallback& on_token = {}) override;
    Result<Generation> complete(std::string_view prompt, const GenerationOptions& options,
                                const TokenCallback& on_token = {}) override;

    // The resolved API root (with "/v1" appended when the given URL had no path).
    const std::string& base_url() const { return base_url_; }
    OpenAiClientStats stats() const;

    // The URL as create() resolves it: "http://h:1" → "http://h:1/v1"; trailing '/' removed. Pure.
    static std::string resolve_base_url(std::string_view url);

  private:
    struct Request;
    OpenAiClient(OpenAiClientOptions options, std::string base_url, std::string api_key);
    Result<Generation> post(const std::string& path, const std::string& body, bool chat, const TokenCallback& on_token);

    const OpenAiClientOptions options_;
    const std::string base_url_;
    const std::string api_key_;
    std::atomic<std::int64_t> requests_{0};
    std::atomic<std::int64_t> retries_{0};
    std::atomic<std::int64_t> failures_{0};
    std::atomic<std::int64_t> prompt_tokens_{0};
    std::atomic<std::int64_t> completion_tokens_{0};
};

}  // namespace kasten::llm
