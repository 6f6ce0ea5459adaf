#pragma once

#include <string>

namespace kasten::llm::testing {

// Paths of the committed stories260K fixtures (data/models/stories260K, see data/README.md).
inline std::string stories_path(const std::string& name) {
    return std::string(KASTEN_SOURCE_DIR) + "/data/models/stories260K/" + name;
}
inline std::string stories_gguf() {
    return stories_path("stories260K-tok512.gguf");
}
inline std::string stories_bin() {
    return stories_path("stories260K.bin");
}
inline std::string stories_tokenizer_bin() {
    return stories_path("tok512.bin");
}

}  // namespace kasten::llm::testing
