#include "api/http/openai_embeddings.h"

#include <bit>
#include <cstdint>
#include <cstring>

#include <nlohmann/json.hpp>

#include "api/http/openai_json.h"

namespace kasten::api {
namespace {

using json = nlohmann::ordered_json;

std::string base64_encode(const unsigned char* data, std::size_t size) {
    static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    out.reserve((size + 2) / 3 * 4);
    std::size_t i = 0;
    for (; i + 3 <= size; i += 3) {
        const std::uint32_t v = (std::uint32_t{data[i]} << 16) | (std::uint32_t{data[i + 1]} << 8) | data[i + 2];
        out += kAlphabet[(v >> 18) & 63];
        out += kAlphabet[(v >> 12) & 63];
        out += kAlphabet[(v >> 6) & 63];
        out += kAlphabet[v & 63];
    }
    if (i < size) {
        std::uint32_t v = std::uint32_t{data[i]} << 16;
        if (i + 1 < size) v |= std::uint32_t{data[i + 1]} << 8;
        out += kAlphabet[(v >> 18) & 63];
        out += kAlphabet[(v >> 12) & 63];
        out += i + 1 < size ? kAlphabet[(v >> 6) & 63] : '=';
        out += '=';
    }
    return out;
}

// The vector as little-endian float32 bytes, base64-encoded.
std::string base64_floats(const std::vector<float>& v) {
    std::vector<unsigned char> bytes(v.size() * 4);
    for (std::size_t i = 0; i < v.size(); ++i) {
        std::uint32_t u = std::bit_cast<std::uint32_t>(v[i]);
        for (int b = 0; b < 4; ++b)
            bytes[i * 4 + static_cast<std::size_t>(b)] = static_cast<unsigned char>(u >> (8 * b));
    }
    return base64_encode(bytes.data(), bytes.size());
}

int count_words(const std::string& text) {
    int words = 0;
    bool in_word = false;
    for (unsigned char c : text) {
        const bool space = c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
        if (!space && !in_word) ++words;
        in_word = !space;
    }
    return words;
}

Result<std::string> input_string(const json& value, const std::string& field) {
    if (value.is_number_integer() || value.is_array()) {
        return openai_field_error(field, "token-id input is not supported; send text (the embedder tokenizes it)");
    }
    KASTEN_ASSIGN_OR_RETURN(std::string s, openai_string(value, field));
    if (s.empty()) return openai_field_error(field, "must not be empty");
    return s;
}

}  // namespace

Result<EmbeddingRequest> parse_embedding_request(std::string_view body) {
    KASTEN_ASSIGN_OR_RETURN(json obj, parse_openai_body(body));
    KASTEN_RETURN_IF_ERROR(check_openai_fields(obj, "", {"input", "model", "encoding_format", "dimensions", "user"}));
    EmbeddingRequest out;
    if (const json* v = openai_member(obj, "model")) {
        KASTEN_ASSIGN_OR_RETURN(out.model, openai_string(*v, "model"));
    }
    if (const json* v = openai_member(obj, "user")) {
        KASTEN_ASSIGN_OR_RETURN(out.user, openai_string(*v, "user"));
    }
    if (const json* v = openai_member(obj, "encoding_format")) {
        KASTEN_ASSIGN_OR_RETURN(std::string format, openai_string(*v, "encoding_format"));
        if (format != "float" && format != "base64") {
            return openai_field_error("encoding_format", "must be 'float' or 'base64'");
        }
        out.base64 = format == "base64";
    }
    if (const json* v = openai_member(obj, "dimensions")) {
        if (!v->is_number_integer() || v->get<std::int64_t>() < 1 || v->get<std::int64_t>() > 1 << 20) {
            return openai_field_error("dimensions", "must be a positive integer");
        }
        out.dimensions = v->get<int>();
    }
    const json* input = openai_member(obj, "input");
    if (input == nullptr) return openai_field_error("input", "is required");
    if (input->is_array()) {
        if (input->empty()) return openai_field_error("input", "must not be empty");
        if (input->size() > kMaxEmbeddingInputs) {
            return openai_field_error("input", "at most " + std::to_string(kMaxEmbeddingInputs) + " inputs");
        }
        for (std::size_t i = 0; i < input->size(); ++i) {
            KASTEN_ASSIGN_OR_RETURN(std::string s, input_string((*input)[i], "input[" + std::to_string(i) + "]"));
            out.inputs.push_back(std::move(s));
        }
    } else {
        KASTEN_ASSIGN_OR_RETURN(std::string s, input_string(*input, "input"));
        out.inputs.push_back(std::move(s));
    }
    return out;
}

Result<std::string> embeddings_body(const EmbeddingRequest& request, const llm::Embedder& embedder) {
    if (request.dimensions && *request.dimensions != embedder.dim()) {
        return openai_field_error("dimensions", "the embedder " + embedder.id() + " gives " +
                                                    std::to_string(embedder.dim()) +
                                                    " dimensions and cannot shorten them; omit dimensions or send " +
                                                    std::to_string(embedder.dim()));
    }
    // The response is written with sorted keys, as on the other routes.
    nlohmann::json data = nlohmann::json::array();
    int tokens = 0;
    for (std::size_t i = 0; i < request.inputs.size(); ++i) {
        const std::vector<float> v = embedder.embed(request.inputs[i]);
        tokens += count_words(request.inputs[i]);
        nlohmann::json item = {{"object", "embedding"}, {"index", i}};
        if (request.base64) {
            item["embedding"] = base64_floats(v);
        } else {
            item["embedding"] = v;
        }
        data.push_back(std::move(item));
    }
    nlohmann::json body = {{"object", "list"},
                           {"data", std::move(data)},
                           {"model", embedder.id()},
                           {"usage", {{"prompt_tokens", tokens}, {"total_tokens", tokens}}}};
    return body.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace kasten::api
