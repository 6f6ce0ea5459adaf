#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "store/statement.h"

namespace kasten::store {

// Column encoding of embeddings: float32 little-endian, 4 bytes per dimension, no header. The bits of every float
// (NaN payloads, -0.0) round-trip exactly. An empty vector is stored as SQL NULL (not embedded), never as a blob.

// Encodes `v` into `out` (replacing its contents; 4 * v.size() bytes).
void encode_embedding(const std::vector<float>& v, std::string* out);

// On little-endian hosts the vector's own bytes are the encoding; this returns them without copying, else nullptr.
const void* embedding_bytes_if_native(const std::vector<float>& v);

// Decodes `bytes` into `out` (replacing its contents). False when the size is not a multiple of 4.
bool decode_embedding(std::string_view bytes, std::vector<float>* out);

// Binds `v` as parameter `index`: NULL when empty, else its encoding, without copying on little-endian hosts.
// `v` (and `scratch`, which holds the encoding on big-endian hosts) must stay alive until the statement is stepped.
void bind_embedding(Statement& stmt, int index, const std::vector<float>& v, std::string* scratch);

// Reads column `col` (NULL -> empty) into `out`. False when the blob size is not a multiple of 4.
bool read_embedding(const Statement& stmt, int col, std::vector<float>* out);

}  // namespace kasten::store
