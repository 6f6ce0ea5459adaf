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
            {"total_tokens", g.prompt_tokens + g.completion_tokens}};
}

json envelope(const CompletionMeta& meta, bool chunk, json choice) {
    return {{"id", meta.id},
            {"object", object_name(meta, chunk)},
            {"created", meta.created},
            {"model", meta.model},
            {"choices", json::array({std::move(choice)})}};
}

json chunk_choice(const CompletionMeta& meta, std::string_view piece, const json& finish_reason) {
    if (meta.kind == CompletionKind::kChat) {
        json delta = json::object();
        if (!piece.empty()) delta["content"] = std::string(piece);
        return {{"index", 0}, {"delta", std::move(delta)}, {"finish_reason", finish_reason}};
    }
    return {{"index", 0}, {"text", std::string(piece)}, {"logprobs", nullptr}, {"finish_reason", finish_reason}};
}

}  // namespace

std::string completion_body(const CompletionMeta& meta, const llm::Generation& generation) {
    json choice;
    if (meta.kind == CompletionKind::kChat) {
        choice = {{"index", 0},
                  {"message", {{"role", "assistant"}, {"content", generation.text}}},
                  {"finish_reason", generation.finish_reason}};
    } else {
        choice = {{"index", 0},
                  {"text", generation.text},
                  {"logprobs", nullptr},
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
    json choice = {{"index", 0}, {"delta", {{"role", "assistant"}, {"content", ""}}}, {"finish_reason", nullptr}};
    return sse_data(dump(envelope(meta, /*chunk=*/true, std::move(choice))));
}

std::string stream_piece_event(const CompletionMeta& meta, std::string_view piece) {
    return sse_data(dump(envelope(meta, /*chunk=*/true, chunk_choice(meta, piece, nullptr))));
}

std::string stream_finish_event(const CompletionMeta& meta, const llm::Generation& generation) {
    json body = envelope(meta, /*chunk=*/true, chunk_choice(meta, "", generation.finish_reason));
    body["usage"] = usage(generation);
    return sse_data(dump(body));
}

std::string stream_error_event(int http_status, const Status& status) {
    return sse_data(error_body(http_status, status));
}

}  // namespace kasten::api
