#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "llm/embedder.h"

namespace kasten::api {

// POST /v1/embeddings, parsed.
struct EmbeddingRequest {
    std::string model;                // as sent; informational (the server's embedder answers)
    std::vector<std::string> inputs;  // 1..kMaxEmbeddingInputs non-empty strings
    bool base64 = false;              // encoding_format "base64" (else "float")
    std::optional<int> dimensions;    // must equal the embedder's dimension when given
    std::string user;                 // accepted and ignored
};

constexpr std::size_t kMaxEmbeddingInputs = 2048;

// Strict parsing (unknown fields → kInvalidArgument naming them): input (a string or an array of strings; token-id
// arrays are refused: the embedder reads text), model (string), encoding_format ("float" | "base64"), dimensions
// (integer >= 1), user (string). Thread-safe.
Result<EmbeddingRequest> parse_embedding_request(std::string_view body);

// The OpenAI response: {"object": "list", "data": [{"object": "embedding", "index", "embedding"}], "model":
// embedder.id(), "usage": {prompt_tokens, total_tokens}}. An embedding is an array of floats, or with base64 the
// little-endian float32 bytes in standard base64 (as the OpenAI API sends them). Usage counts whitespace-separated
// words (the embedders have no subword tokenizer). kInvalidArgument when dimensions differs from embedder.dim() (the
// embedders cannot shorten their vectors). Thread-safe when the embedder is (llm::Embedder's contract).
Result<std::string> embeddings_body(const EmbeddingRequest& request, const llm::Embedder& embedder);

}  // namespace kasten::api
