#include "api/http/openai_request.h"

#include <algorithm>
#include <charconv>
#include <cstdint>

#include <nlohmann/json.hpp>

#include "api/http/openai_json.h"
#include "llm/json_schema.h"

namespace kasten::api {
namespace {

using json = nlohmann::ordered_json;

constexpr std::size_t kMaxMessages = 1000;
constexpr std::size_t kMaxStops = 4;
constexpr std::size_t kMaxLogitBias = 1024;
constexpr std::size_t kMaxMetadata = 16;
constexpr int kMaxTopLogprobs = 20;
constexpr int kMaxCompletionLogprobs = 5;

Status bad(const std::string& field, const std::string& what) {
    return openai_field_error(field, what);
}

const json* member(const json& obj, const char* name) {
    return openai_member(obj, name);
}

Result<std::string> string_field(const json& value, const std::string& field) {
    return openai_string(value, field);
}

Result<bool> bool_field(const json& obj, const char* name, bool fallback) {
    const json* v = member(obj, name);
    if (v == nullptr) return fallback;
    if (!v->is_boolean()) return bad(name, "must be a boolean");
    return v->get<bool>();
}

Status require_type(const json& obj, const char* name, json::value_t type, const char* what) {
    const json* v = member(obj, name);
    if (v == nullptr) return Status::ok();
    if (v->type() != type) return bad(name, std::string("must be ") + what);
    return Status::ok();
}

Result<int> bounded_int(const json& value, const std::string& field, std::int64_t lo, std::int64_t hi) {
    if (!value.is_number_integer()) return bad(field, "must be an integer");
    if (value.is_number_unsigned() && value.get<std::uint64_t>() > static_cast<std::uint64_t>(hi)) {
        return bad(field, "must be between " + std::to_string(lo) + " and " + std::to_string(hi));
    }
    const std::int64_t n = value.get<std::int64_t>();
    if (n < lo || n > hi) return bad(field, "must be between " + std::to_string(lo) + " and " + std::to_string(hi));
    return static_cast<int>(n);
}

Result<double> penalty(const json& obj, const char* name) {
    const json* v = member(obj, name);
    if (v == nullptr) return 0.0;
    if (!v->is_number()) return bad(name, "must be a number");
    const double p = v->get<double>();
    if (!(p >= -2.0 && p <= 2.0)) return bad(name, "must be between -2 and 2");
    return p;
}

// n and best_of: one choice per request.
Status single_choice(const json& obj, const char* name) {
    const json* v = member(obj, name);
    if (v == nullptr) return Status::ok();
    KASTEN_ASSIGN_OR_RETURN(const int n, bounded_int(*v, name, 1, 128));
    if (n != 1) {
        return bad(name, "only 1 is supported (one choice per request); send " + std::to_string(n) +
                             " requests with different seeds instead");
    }
    return Status::ok();
}

Status parse_logit_bias(const json& obj, CompletionRequest* out) {
    const json* v = member(obj, "logit_bias");
    if (v == nullptr) return Status::ok();
    if (!v->is_object()) return bad("logit_bias", "must be an object mapping token ids to numbers");
    if (v->size() > kMaxLogitBias) return bad("logit_bias", "at most " + std::to_string(kMaxLogitBias) + " tokens");
    for (auto it = v->begin(); it != v->end(); ++it) {
        const std::string& key = it.key();
        const std::string field = "logit_bias." + key.substr(0, 32);
        int id = -1;
        const auto [end, ec] = std::from_chars(key.data(), key.data() + key.size(), id);
        if (key.empty() || ec != std::errc() || end != key.data() + key.size() || id < 0) {
            return bad(field, "keys must be token ids (non-negative integers)");
        }
        if (!it->is_number()) return bad(field, "must be a number");
        const double b = it->get<double>();
        if (!(b >= -100.0 && b <= 100.0)) return bad(field, "must be between -100 and 100");
        out->options.logit_bias.emplace_back(id, b);
    }
    return Status::ok();
}

Status parse_stream_options(const json& obj, CompletionRequest* out) {
    const json* v = member(obj, "stream_options");
    if (v == nullptr) return Status::ok();
    if (!v->is_object()) return bad("stream_options", "must be an object");
    if (!out->stream) return bad("stream_options", "is only allowed when stream is true");
    KASTEN_RETURN_IF_ERROR(check_openai_fields(*v, "stream_options.", {"include_usage", "include_obfuscation"}));
    if (const json* u = member(*v, "include_usage")) {
        if (!u->is_boolean()) return bad("stream_options.include_usage", "must be a boolean");
        out->include_usage = u->get<bool>();
    }
    if (const json* o = member(*v, "include_obfuscation"); o != nullptr && !o->is_boolean()) {
        return bad("stream_options.include_obfuscation", "must be a boolean");
    }
    return Status::ok();
}

// Fields shared by both routes; `obj` has already passed check_openai_fields.
Status parse_common(const json& obj, const CompletionLimits& limits, CompletionRequest* out) {
    if (const json* v = member(obj, "model")) {
        KASTEN_ASSIGN_OR_RETURN(out->model, string_field(*v, "model"));
    }
    out->options.max_tokens = limits.default_max_tokens;
    if (const json* v = member(obj, "max_tokens")) {
        KASTEN_ASSIGN_OR_RETURN(out->options.max_tokens, bounded_int(*v, "max_tokens", 1, limits.max_tokens));
    }
    out->options.temperature = 1.0;
    if (const json* v = member(obj, "temperature")) {
        if (!v->is_number()) return bad("temperature", "must be a number");
        const double t = v->get<double>();
        if (!(t >= 0.0 && t <= 2.0)) return bad("temperature", "must be between 0 and 2");
        out->options.temperature = t;
    }
    if (const json* v = member(obj, "top_p")) {
        if (!v->is_number()) return bad("top_p", "must be a number");
        const double p = v->get<double>();
        if (!(p > 0.0 && p <= 1.0)) return bad("top_p", "must be greater than 0 and at most 1");
        out->options.top_p = p;
    }
    KASTEN_ASSIGN_OR_RETURN(out->stream, bool_field(obj, "stream", false));
    KASTEN_RETURN_IF_ERROR(parse_stream_options(obj, out));
    if (const json* v = member(obj, "seed")) {
        if (!v->is_number_integer()) return bad("seed", "must be an integer");
        if (v->is_number_unsigned()) {
            out->options.seed = v->get<std::uint64_t>();
        } else {
            const std::int64_t s = v->get<std::int64_t>();
            if (s < 0) return bad("seed", "must not be negative");
            out->options.seed = static_cast<std::uint64_t>(s);
        }
    }
    if (const json* v = member(obj, "stop")) {
        std::vector<std::string> stops;
        if (v->is_string()) {
            KASTEN_ASSIGN_OR_RETURN(std::string s, string_field(*v, "stop"));
            stops.push_back(std::move(s));
        } else if (v->is_array()) {
            if (v->size() > kMaxStops) return bad("stop", "at most " + std::to_string(kMaxStops) + " strings");
            for (std::size_t i = 0; i < v->size(); ++i) {
                KASTEN_ASSIGN_OR_RETURN(std::string s, string_field((*v)[i], "stop[" + std::to_string(i) + "]"));
                stops.push_back(std::move(s));
            }
        } else {
            return bad("stop", "must be a string or an array of strings");
        }
        for (std::size_t i = 0; i < stops.size(); ++i) {
            if (stops[i].empty()) return bad("stop", "stop strings must not be empty");
        }
        out->options.stop = std::move(stops);
    }
    KASTEN_RETURN_IF_ERROR(single_choice(obj, "n"));
    KASTEN_ASSIGN_OR_RETURN(out->options.frequency_penalty, penalty(obj, "frequency_penalty"));
    KASTEN_ASSIGN_OR_RETURN(out->options.presence_penalty, penalty(obj, "presence_penalty"));
    KASTEN_RETURN_IF_ERROR(parse_logit_bias(obj, out));
    if (const json* v = member(obj, "user")) {
        KASTEN_ASSIGN_OR_RETURN(out->user, string_field(*v, "user"));
    }
    return Status::ok();
}

// Message content: a string, or an array of text parts (joined with newlines). Assistant messages may also carry
// refusal parts. nullopt content is allowed only where `optional` (assistant turns that carried tool calls).
Result<std::string> parse_content(const json& m, const std::string& prefix, bool optional, bool assistant) {
    const std::string field = prefix + ".content";
    const json* content = member(m, "content");
    if (content == nullptr) {
        if (optional) return std::string();
        return bad(field, "is required");
    }
    if (content->is_string()) return string_field(*content, field);
    if (!content->is_array()) return bad(field, "must be a string or an array of content parts");
    std::string text;
    for (std::size_t i = 0; i < content->size(); ++i) {
        const std::string part_field = field + "[" + std::to_string(i) + "]";
        const json& part = (*content)[i];
        if (!part.is_object()) return bad(part_field, "must be an object");
        const json* type = member(part, "type");
        if (type == nullptr) return bad(part_field + ".type", "is required");
        KASTEN_ASSIGN_OR_RETURN(std::string kind, string_field(*type, part_field + ".type"));
        std::string piece;
        if (kind == "text") {
            KASTEN_RETURN_IF_ERROR(check_openai_fields(part, part_field + ".", {"type", "text"}));
            const json* t = member(part, "text");
            if (t == nullptr) return bad(part_field + ".text", "is required");
            KASTEN_ASSIGN_OR_RETURN(piece, string_field(*t, part_field + ".text"));
        } else if (kind == "refusal" && assistant) {
            KASTEN_RETURN_IF_ERROR(check_openai_fields(part, part_field + ".", {"type", "refusal"}));
            const json* t = member(part, "refusal");
            if (t == nullptr) return bad(part_field + ".refusal", "is required");
            KASTEN_ASSIGN_OR_RETURN(piece, string_field(*t, part_field + ".refusal"));
        } else if (kind == "image_url" || kind == "input_audio" || kind == "file") {
            return bad(part_field + ".type", "'" + kind + "' content is not supported; the model reads text only");
        } else {
            return bad(part_field + ".type", "must be 'text'");
        }
        if (!text.empty()) text += '\n';
        text += piece;
    }
    return text;
}

Result<llm::ChatMessage> parse_message(const json& m, const std::string& prefix) {
    if (!m.is_object()) return bad(prefix, "must be an object");
    KASTEN_RETURN_IF_ERROR(check_openai_fields(
        m, prefix + ".",
        {"role", "content", "name", "tool_calls", "tool_call_id", "refusal", "audio", "function_call"}));
    const json* role = member(m, "role");
    if (role == nullptr) return bad(prefix + ".role", "is required");
    KASTEN_ASSIGN_OR_RETURN(std::string r, string_field(*role, prefix + ".role"));
    const bool assistant = r == "assistant";
    if (r != "system" && r != "developer" && r != "user" && !assistant && r != "tool" && r != "function") {
        return bad(prefix + ".role", "must be system, developer, user, assistant, tool or function");
    }
    if (const json* v = member(m, "name"); v != nullptr) {
        KASTEN_RETURN_IF_ERROR(string_field(*v, prefix + ".name").status());
    }
    if (r == "function" && member(m, "name") == nullptr) return bad(prefix + ".name", "is required for role function");
    const char* assistant_only[] = {"tool_calls", "refusal", "audio", "function_call"};
    for (const char* f : assistant_only) {
        if (!assistant && member(m, f) != nullptr)
            return bad(prefix + "." + f, "is only allowed on assistant messages");
    }
    if (const json* v = member(m, "tool_calls"); v != nullptr && !v->is_array()) {
        return bad(prefix + ".tool_calls", "must be an array");
    }
    if (const json* v = member(m, "refusal"); v != nullptr) {
        KASTEN_RETURN_IF_ERROR(string_field(*v, prefix + ".refusal").status());
    }
    if (r == "tool") {
        const json* id = member(m, "tool_call_id");
        if (id == nullptr) return bad(prefix + ".tool_call_id", "is required for role tool");
        KASTEN_RETURN_IF_ERROR(string_field(*id, prefix + ".tool_call_id").status());
    } else if (member(m, "tool_call_id") != nullptr) {
        return bad(prefix + ".tool_call_id", "is only allowed on tool messages");
    }
    llm::ChatMessage message;
    message.role = r == "developer" ? "system" : r;
    const bool content_optional =
        assistant && (member(m, "tool_calls") != nullptr || member(m, "function_call") != nullptr ||
                      member(m, "refusal") != nullptr || member(m, "audio") != nullptr);
    KASTEN_ASSIGN_OR_RETURN(message.content, parse_content(m, prefix, content_optional, assistant));
    return message;
}

Status refuse_tools(const json& obj, const char* tools_name, const char* choice_name) {
    if (const json* v = member(obj, tools_name)) {
        if (!v->is_array()) return bad(tools_name, "must be an array");
        if (!v->empty()) {
            return bad(tools_name,
                       "tool calling is not supported: kasten's chat templates (ChatML, Llama 3, Llama 2) have no "
                       "tool-calling format; send the request without tools");
        }
    }
    if (const json* v = member(obj, choice_name)) {
        if (v->is_string()) {
            const std::string c = v->get<std::string>();
            if (c == "none" || c == "auto") return Status::ok();
            if (c == "required") return bad(choice_name, "'required' is not supported: no tools can be called");
            return bad(choice_name, "must be 'none', 'auto', 'required' or an object naming a function");
        }
        if (v->is_object()) return bad(choice_name, "naming a function is not supported: no tools can be called");
        return bad(choice_name, "must be a string or an object");
    }
    return Status::ok();
}

Status parse_metadata(const json& obj, CompletionRequest* out) {
    const json* v = member(obj, "metadata");
    if (v == nullptr) return Status::ok();
    if (!v->is_object()) return bad("metadata", "must be an object of strings");
    if (v->size() > kMaxMetadata) return bad("metadata", "at most " + std::to_string(kMaxMetadata) + " keys");
    for (auto it = v->begin(); it != v->end(); ++it) {
        if (it.key().size() > 64) return bad("metadata", "keys are at most 64 characters");
        const std::string field = "metadata." + it.key();
        KASTEN_ASSIGN_OR_RETURN(std::string value, string_field(*it, field));
        if (value.size() > 512) return bad(field, "values are at most 512 characters");
        out->metadata.emplace(it.key(), std::move(value));
    }
    return Status::ok();
}

// response_format → GenerationOptions::json_schema (checked against the supported schema subset).
Status parse_response_format(const json& obj, CompletionRequest* out) {
    const json* v = member(obj, "response_format");
    if (v == nullptr) return Status::ok();
    if (!v->is_object()) return bad("response_format", "must be an object");
    const json* type = member(*v, "type");
    if (type == nullptr) return bad("response_format.type", "is required");
    KASTEN_ASSIGN_OR_RETURN(std::string kind, string_field(*type, "response_format.type"));
    if (kind == "text") {
        return check_openai_fields(*v, "response_format.", {"type"});
    }
    if (kind == "json_object") {
        KASTEN_RETURN_IF_ERROR(check_openai_fields(*v, "response_format.", {"type"}));
        out->options.json_schema = R"({"type":"object"})";
        return Status::ok();
    }
    if (kind != "json_schema") return bad("response_format.type", "must be text, json_object or json_schema");
    KASTEN_RETURN_IF_ERROR(check_openai_fields(*v, "response_format.", {"type", "json_schema"}));
    const json* spec = member(*v, "json_schema");
    if (spec == nullptr) return bad("response_format.json_schema", "is required for type json_schema");
    if (!spec->is_object()) return bad("response_format.json_schema", "must be an object");
    KASTEN_RETURN_IF_ERROR(
        check_openai_fields(*spec, "response_format.json_schema.", {"name", "description", "schema", "strict"}));
    const json* name = member(*spec, "name");
    if (name == nullptr) return bad("response_format.json_schema.name", "is required");
    KASTEN_RETURN_IF_ERROR(string_field(*name, "response_format.json_schema.name").status());
    if (const json* d = member(*spec, "description")) {
        KASTEN_RETURN_IF_ERROR(string_field(*d, "response_format.json_schema.description").status());
    }
    if (const json* s = member(*spec, "strict"); s != nullptr && !s->is_boolean()) {
        return bad("response_format.json_schema.strict", "must be a boolean");
    }
    const json* schema = member(*spec, "schema");
    std::string text = R"({"type":"object"})";
    if (schema != nullptr) {
        if (!schema->is_object()) return bad("response_format.json_schema.schema", "must be an object");
        text = schema->dump();
    }
    Result<llm::JsonSchema> parsed = llm::JsonSchema::parse(text);
    if (!parsed.is_ok()) return bad("response_format.json_schema.schema", parsed.status().message());
    out->options.json_schema = std::move(text);
    return Status::ok();
}

// Chat fields that are accepted and ignored, or refused for the values kasten cannot honour.
Status parse_chat_extras(const json& obj, const CompletionLimits& limits, CompletionRequest* out) {
    KASTEN_RETURN_IF_ERROR(require_type(obj, "store", json::value_t::boolean, "a boolean"));
    KASTEN_RETURN_IF_ERROR(require_type(obj, "parallel_tool_calls", json::value_t::boolean, "a boolean"));
    KASTEN_RETURN_IF_ERROR(require_type(obj, "prediction", json::value_t::object, "an object"));
    for (const char* s : {"reasoning_effort", "service_tier", "verbosity", "prompt_cache_key", "prompt_cache_retention",
                          "safety_identifier"}) {
        if (const json* v = member(obj, s)) KASTEN_RETURN_IF_ERROR(string_field(*v, s).status());
    }
    KASTEN_RETURN_IF_ERROR(refuse_tools(obj, "tools", "tool_choice"));
    KASTEN_RETURN_IF_ERROR(refuse_tools(obj, "functions", "function_call"));
    if (member(obj, "audio") != nullptr) return bad("audio", "audio output is not supported; the model writes text");
    if (const json* v = member(obj, "modalities")) {
        if (!v->is_array()) return bad("modalities", "must be an array of strings");
        for (const json& m : *v) {
            if (!m.is_string() || (m.get<std::string>() != "text" && m.get<std::string>() != "audio")) {
                return bad("modalities", "entries must be 'text' or 'audio'");
            }
            if (m.get<std::string>() == "audio") return bad("modalities", "audio output is not supported");
        }
    }
    if (member(obj, "web_search_options") != nullptr) {
        return bad("web_search_options", "web search is not available on this server");
    }
    KASTEN_RETURN_IF_ERROR(parse_metadata(obj, out));
    KASTEN_RETURN_IF_ERROR(parse_response_format(obj, out));
    if (const json* v = member(obj, "max_completion_tokens")) {
        // Both limits given: the smaller applies (max_tokens was parsed first, defaulting only when absent).
        KASTEN_ASSIGN_OR_RETURN(const int n, bounded_int(*v, "max_completion_tokens", 1, limits.max_tokens));
        if (member(obj, "max_tokens") == nullptr) {
            out->options.max_tokens = n;
        } else {
            out->options.max_tokens = std::min(out->options.max_tokens, n);
        }
    }
    KASTEN_ASSIGN_OR_RETURN(out->options.logprobs, bool_field(obj, "logprobs", false));
    if (const json* v = member(obj, "top_logprobs")) {
        KASTEN_ASSIGN_OR_RETURN(out->options.top_logprobs, bounded_int(*v, "top_logprobs", 0, kMaxTopLogprobs));
        if (!out->options.logprobs) return bad("top_logprobs", "requires logprobs to be true");
    }
    return Status::ok();
}

}  // namespace

Result<CompletionRequest> parse_chat_completion_request(std::string_view body, const CompletionLimits& limits) {
    KASTEN_ASSIGN_OR_RETURN(json obj, parse_openai_body(body));
    KASTEN_RETURN_IF_ERROR(check_openai_fields(obj, "",
                                               {"messages",
                                                "model",
                                                "audio",
                                                "frequency_penalty",
                                                "function_call",
                                                "functions",
                                                "logit_bias",
                                                "logprobs",
                                                "max_completion_tokens",
                                                "max_tokens",
                                                "metadata",
                                                "modalities",
                                                "moderation",
                                                "n",
                                                "parallel_tool_calls",
                                                "prediction",
                                                "presence_penalty",
                                                "prompt_cache_key",
                                                "prompt_cache_options",
                                                "prompt_cache_retention",
                                                "reasoning_effort",
                                                "response_format",
                                                "safety_identifier",
                                                "seed",
                                                "service_tier",
                                                "stop",
                                                "store",
                                                "stream",
                                                "stream_options",
                                                "temperature",
                                                "tool_choice",
                                                "tools",
                                                "top_logprobs",
                                                "top_p",
                                                "user",
                                                "verbosity",
                                                "web_search_options"}));
    CompletionRequest out;
    KASTEN_RETURN_IF_ERROR(parse_common(obj, limits, &out));
    KASTEN_RETURN_IF_ERROR(parse_chat_extras(obj, limits, &out));
    const json* messages = member(obj, "messages");
    if (messages == nullptr) return bad("messages", "is required");
    if (!messages->is_array()) return bad("messages", "must be an array");
    if (messages->empty()) return bad("messages", "must not be empty");
    if (messages->size() > kMaxMessages)
        return bad("messages", "at most " + std::to_string(kMaxMessages) + " messages");
    for (std::size_t i = 0; i < messages->size(); ++i) {
        KASTEN_ASSIGN_OR_RETURN(llm::ChatMessage message,
                                parse_message((*messages)[i], "messages[" + std::to_string(i) + "]"));
        out.messages.push_back(std::move(message));
    }
    return out;
}

Result<CompletionRequest> parse_completion_request(std::string_view body, const CompletionLimits& limits) {
    KASTEN_ASSIGN_OR_RETURN(json obj, parse_openai_body(body));
    KASTEN_RETURN_IF_ERROR(check_openai_fields(
        obj, "",
        {"model", "prompt", "best_of", "echo", "frequency_penalty", "logit_bias", "logprobs", "max_tokens", "n",
         "presence_penalty", "seed", "stop", "stream", "stream_options", "suffix", "temperature", "top_p", "user"}));
    CompletionRequest out;
    KASTEN_RETURN_IF_ERROR(parse_common(obj, limits, &out));
    KASTEN_RETURN_IF_ERROR(single_choice(obj, "best_of"));
    KASTEN_ASSIGN_OR_RETURN(out.echo, bool_field(obj, "echo", false));
    if (const json* v = member(obj, "logprobs")) {
        KASTEN_ASSIGN_OR_RETURN(out.options.top_logprobs, bounded_int(*v, "logprobs", 0, kMaxCompletionLogprobs));
        out.options.logprobs = true;
        if (out.echo) return bad("logprobs", "cannot be combined with echo (prompt tokens get no log-probabilities)");
    }
    if (const json* v = member(obj, "suffix")) {
        KASTEN_ASSIGN_OR_RETURN(std::string suffix, string_field(*v, "suffix"));
        if (!suffix.empty()) return bad("suffix", "insertion (a non-empty suffix) is not supported");
    }
    const json* prompt = member(obj, "prompt");
    if (prompt == nullptr) return bad("prompt", "is required");
    if (prompt->is_array()) {
        if (prompt->size() != 1 || !(*prompt)[0].is_string()) {
            return bad("prompt",
                       "must be a string or an array of one string (token-id prompts and several prompts "
                       "are not supported)");
        }
        KASTEN_ASSIGN_OR_RETURN(out.prompt, string_field((*prompt)[0], "prompt[0]"));
    } else if (prompt->is_string()) {
        KASTEN_ASSIGN_OR_RETURN(out.prompt, string_field(*prompt, "prompt"));
    } else {
        return bad("prompt", "must be a string or an array of one string");
    }
    return out;
}

}  // namespace kasten::api
