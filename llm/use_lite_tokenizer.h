#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace kasten::llm {

class UseLiteModel;

// The SentencePiece unigram tokenizer of Universal Sentence Encoder lite, as the TF.js reference implementation
// (npm @energetic-ai/embeddings 0.2.0) encodes: the text in NFKC, "▁" (U+2581) prepended and every space (U+0020)
// replaced by it; a Viterbi search over the pieces' scores, ids 0..5 excluded (reserved); a code point that starts
// no piece is the unknown id 0 with score 0, and runs of unknown ids become one. Ties and the reference's quirks
// are reproduced exactly: an end position whose best score is still 0 takes any piece; among equal scores the
// piece starting last wins; the backward pass steps by each piece's length in UTF-16 code units.
// Empty text gives no ids. Immutable after construction; encode() is thread-safe.
class UseLiteTokenizer {
  public:
    static constexpr std::uint32_t kSeparator = 0x2581;
    static constexpr int kUnknownId = 0;

    // pieces[i] is id i: (UTF-8 piece, score). Ids below reserved_ids are never produced, except the unknown id.
    explicit UseLiteTokenizer(const std::vector<std::pair<std::string, double>>& pieces, int reserved_ids = 6);
    explicit UseLiteTokenizer(const UseLiteModel& model);

    std::vector<int> encode(std::string_view text) const;
    std::size_t piece_count() const { return utf16_length_.size(); }

  private:
    struct Node {
        int id = -1;  // the piece ending here, -1 when none
        double score = 0.0;
    };
    void build(const std::vector<std::pair<std::string, double>>& pieces, int reserved_ids);
    // The child of `node` for code point cp, or 0 when none (0 is the root, never a child).
    std::uint32_t child(std::uint32_t node, std::uint32_t cp) const;

    std::vector<Node> nodes_;
    std::unordered_map<std::uint64_t, std::uint32_t> children_;  // (node << 21) | code point -> child
    std::vector<int> utf16_length_;                              // per id
};

}  // namespace kasten::llm
