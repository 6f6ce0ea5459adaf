#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "common/result.h"
#include "llm/chat_template.h"

namespace kasten::llm {

// ChatMessage {role: system | user | assistant, content} is defined with the chat templates that render it.

struct GenerationOptions {
    int max_tokens = 256;
    double temperature = 0.0;  // 0 = greedy
    double top_p = 1.0;
    int top_k = 0;  // 0 = off
    std::uint64_t seed = 0;
    double min_p = 0.0;                      // 0 = off (embedded model; llama.cpp servers accept it too)
    double repeat_penalty = 1.0;             // 1 = off (embedded model; llama.cpp servers accept it too)
    std::vector<std::string> stop;           // generation ends before any of these strings
    std::optional<std::string> json_schema;  // constrain the output to JSON of this schema (where supported)
    // OpenAI's penalties over the tokens generated so far (not the prompt): a token's logit is lowered by
    // count · frequency_penalty + (count > 0) · presence_penalty. 0 = off; the OpenAI API accepts -2..2.
    double frequency_penalty = 0.0;
    double presence_penalty = 0.0;
    // Added to the logit of each token id before sampling (-100 bans, 100 forces in practice). Ids are the model's.
    std::vector<std::pair<int, double>> logit_bias;
    // Report the log-probability of each generated token (Generation::logprobs) with the top_logprobs most likely
    // alternatives at its position (0..20). Models that cannot report them leave Generation::logprobs empty.
    bool logprobs = false;
    int top_logprobs = 0;
    // Cap the reply so that prompt + reply fit the model's context: no context shift drops part of the prompt while
    // the reply is written (structured replies that must answer the whole prompt). Models that do not shift their
    // context ignore it.
    bool fit_context = false;
};

// A candidate token at one generated position.
struct TokenAlternative {
    std::string token;  // the token's bytes (possibly part of a UTF-8 character)
    double logprob = 0.0;
};

// One generated token with its natural-log probability under the distribution it was drawn from (after
// penalties, logit bias and constraints, before temperature and truncation).
struct TokenLogprob {
    std::string token;  // the token's bytes (possibly part of a UTF-8 character)
    double logprob = 0.0;
    std::vector<TokenAlternative> top;  // the most likely tokens at this position, most likely first
    std::size_t text_offset = 0;        // byte offset in Generation::text where the token's bytes start
};

struct Generation {
    std::string text;
    int prompt_tokens = 0;
    int completion_tokens = 0;
    // Of prompt_tokens, those whose keys and values were reused from an earlier call instead of evaluated (the
    // embedded model's prefix cache; 0 where unknown). OpenAI's usage.prompt_tokens_details.cached_tokens.
    int cached_prompt_tokens = 0;
    std::string finish_reason;  // stop | length
    // With GenerationOptions::logprobs, for models that report them: the tokens whose bytes start in `text`, in order
    // (so when a stop string begins inside a token, that token is reported whole; its bytes run past `text`).
    std::vector<TokenLogprob> logprobs;
};

// Receives each piece of text as it is generated, and the log-probabilities of the tokens that start in it (empty
// unless GenerationOptions::logprobs); returning false stops the generation. Built from a callable taking
// (std::string_view piece) or (std::string_view piece, std::span<const TokenLogprob> logprobs); an empty
// std::function or null pointer gives an empty callback.
class TokenCallback {
  public:
    using Function = std::function<bool(std::string_view piece, std::span<const TokenLogprob> logprobs)>;

    TokenCallback() = default;
    TokenCallback(std::nullptr_t) {}
    template <class F>
    requires(!std::is_same_v<std::decay_t<F>, TokenCallback> &&
             std::is_invocable_r_v<bool, F&, std::string_view, std::span<const TokenLogprob>>) TokenCallback(F f)
        : function_(std::move(f)) {}
    template <class F>
    requires(!std::is_same_v<std::decay_t<F>, TokenCallback> &&
             !std::is_invocable_r_v<bool, F&, std::string_view, std::span<const TokenLogprob>> &&
             std::is_invocable_r_v<bool, F&, std::string_view>) TokenCallback(F f) {
        if constexpr (std::is_pointer_v<F> || requires { typename F::result_type; }) {  // std::function
            if (!static_cast<bool>(f)) return;  // an empty std::function or a null pointer: no callback
        }
        function_ = [g = std::move(f)](std::string_view piece, std::span<const TokenLogprob>) mutable {
            return static_cast<bool>(g(piece));
        };
    }

    explicit operator bool() const { return static_cast<bool>(function_); }
    bool operator()(std::string_view piece, std::span<const TokenLogprob> logprobs = {}) const {
        return function_(piece, logprobs);
    }

  private:
    Function function_;
};

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
