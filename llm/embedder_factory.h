#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "common/result.h"
#include "llm/embedder.h"

namespace kasten::llm {

// Creates the configured embedder. kind:
//   "hashing" - HashingEmbedder(hashing_dim);
//   "glove"   - GloveEmbedder::load(glove_path); a missing file is kNotFound naming the path and the
//               commands that create it; other load errors are returned as they are;
//   "use"     - UseLiteEmbedder::load(use_path) (Universal Sentence Encoder lite); a missing file is kNotFound
//               naming the path and the commands that create it; other load errors are returned as they are;
//   "glove+use" - CombinedEmbedder of the two above (GloVe first, weight CombinedEmbedder::kDefaultWeight): the
//               cosine of two vectors is combined_weight x the GloVe cosine + (1 - combined_weight) x the encoder's;
//               either file missing or failing to load is the error its own kind gives; kInvalidArgument for a
//               combined_weight outside (0, 1);
//   "auto"    - GloVe when glove_path is non-empty, exists and loads, else hashing (logged: info when the
//               file is absent, warn when it exists but does not load).
// kInvalidArgument for another kind, or a hashing_dim outside [1, HashingEmbedder::kMaxDim] when the
// hashing embedder is (or may be) needed.
Result<std::unique_ptr<Embedder>> create_embedder(std::string_view kind, const std::string& glove_path, int hashing_dim,
                                                  const std::string& use_path = {}, double combined_weight = 0.5);

}  // namespace kasten::llm
