#include "api/http/openai_response.h"

#include <nlohmann/json.hpp>

#include "api/http/error_mapping.h"

namespace kasten::api {
namespace {

using nlohmann::json;

std::string dump(const json& j) {
    return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

const char* object_name(const CompletionMeta& meta, bool chunk) {
    if (meta.kind == CompletionKind::kChat) return chunk ? "chat.completion.chunk" : "chat.completion";
    return "text_completion";
}

json usage(const llm::Generation& g) {
    return {{"prompt_tokens", g.prompt_tokens},
            {"completion_tokens", g.completion_tokens},
            {"total_tokens", g.prompt_tokens + g.completion_tokens},
            {"prompt_tokens_details", {{"cached_tokens", g.cached_prompt_tokens}}}};
}

json envelope(const CompletionMeta& meta, bool chunk, json choice) {
    return {{"id", meta.id},
            {"object", object_name(meta, chunk)},
            {"created", meta.created},
            {"model", meta.model},
            {"choices", json::array({std::move(choice)})}};
}

json byte_array(const std::string& s) {
    json out = json::array();
    for (unsigned char c : s) out.push_back(static_cast<int>(c));
    return out;
}

// A JSON string of possibly incomplete UTF-8 (a token can hold part of a character): invalid bytes become U+FFFD.
std::string utf8_text(const std::string& s) {
    return json::parse(json(s).dump(-1, ' ', false, json::error_handler_t::replace)).get<std::string>();
}

json logprobs_json(const CompletionMeta& meta, std::span<const llm::TokenLogprob> logprobs) {
    if (!meta.logprobs) return nullptr;
    if (meta.kind == CompletionKind::kChat) {
        json content = json::array();
        for (const llm::TokenLogprob& t : logprobs) {
            json top = json::array();
            for (const llm::TokenAlternative& a : t.top) {
                top.push_back({{"token", utf8_text(a.token)}, {"logprob", a.logprob}, {"bytes", byte_array(a.token)}});
            }
            content.push_back({{"token", utf8_text(t.token)},
                               {"logprob", t.logprob},
                               {"bytes", byte_array(t.token)},
                               {"top_logprobs", std::move(top)}});
        }
        return {{"content", std::move(content)}, {"refusal", nullptr}};
    }
    json tokens = json::array(), token_logprobs = json::array(), top = json::array(), offsets = json::array();
    for (const llm::TokenLogprob& t : logprobs) {
        tokens.push_back(utf8_text(t.token));
        token_logprobs.push_back(t.logprob);
        json alternatives = json::object();
        for (const llm::TokenAlternative& a : t.top) {
            const std::string key = utf8_text(a.token);
            if (!alternatives.contains(key)) alternatives[key] = a.logprob;
        }
        top.push_back(std::move(alternatives));
        offsets.push_back(t.text_offset);
    }
    return {{"tokens", std::move(tokens)},
            {"token_logprobs", std::move(token_logprobs)},
            {"top_logprobs", std::move(top)},
            {"text_offset", std::move(offsets)}};
}

json chunk_choice(const CompletionMeta& meta, std::string_view piece, std::span<const llm::TokenLogprob> logprobs,
                  const json& finish_reason) {
    if (meta.kind == CompletionKind::kChat) {
        json delta = json::object();
        if (!piece.empty()) delta["content"] = std::string(piece);
        return {{"index", 0},
                {"delta", std::move(delta)},
                {"logprobs", logprobs_json(meta, logprobs)},
                {"finish_reason", finish_reason}};
    }
    return {{"index", 0},
            {"text", std::string(piece)},
            {"logprobs", logprobs_json(meta, logprobs)},
            {"finish_reason", finish_reason}};
}

}  // namespace

std::string completion_body(const CompletionMeta& meta, const llm::Generation& generation) {
    json choice;
    if (meta.kind == CompletionKind::kChat) {
        choice = {{"index", 0},
                  {"message", {{"role", "assistant"}, {"content", generation.text}, {"refusal", nullptr}}},
                  {"logprobs", logprobs_json(meta, generation.logprobs)},
                  {"finish_reason", generation.finish_reason}};
    } else {
        choice = {{"index", 0},
                  {"text", generation.text},
                  {"logprobs", logprobs_json(meta, generation.logprobs)},
                  {"finish_reason", generation.finish_reason}};
    }
    json body = envelope(meta, /*chunk=*/false, std::move(choice));
    body["usage"] = usage(generation);
    return dump(body);
}

std::string sse_data(std::string_view json_text) {
    std::string out;
    out.reserve(json_text.size() + 8);
    out += "data: ";
    out += json_text;
    out += "\n\n";
    return out;
}

std::string sse_done() {
    return "data: [DONE]\n\n";
}

std::string stream_start_event(const CompletionMeta& meta) {
    if (meta.kind != CompletionKind::kChat) return "";
    json choice = {{"index", 0},
                   {"delta", {{"role", "assistant"}, {"content", ""}}},
                   {"logprobs", nullptr},
                   {"finish_reason", nullptr}};
    return sse_data(dump(envelope(meta, /*chunk=*/true, std::move(choice))));
}

std::string stream_piece_event(const CompletionMeta& meta, std::string_view piece,
                               std::span<const llm::TokenLogprob> logprobs) {
    return sse_data(dump(envelope(meta, /*chunk=*/true, chunk_choice(meta, piece, logprobs, nullptr))));
}

std::string stream_finish_event(const CompletionMeta& meta, const llm::Generation& generation) {
    CompletionMeta plain = meta;
    plain.logprobs = false;  // every token's log-probability went out with its piece
    return sse_data(dump(envelope(plain, /*chunk=*/true, chunk_choice(plain, "", {}, generation.finish_reason))));
}

std::string stream_usage_event(const CompletionMeta& meta, const llm::Generation& generation) {
    json body = envelope(meta, /*chunk=*/true, nullptr);
    body["choices"] = json::array();
    body["usage"] = usage(generation);
    return sse_data(dump(body));
}

std::string stream_error_event(int http_status, const Status& status) {
    return sse_data(error_body(http_status, status));
}

}  // namespace kasten::api
