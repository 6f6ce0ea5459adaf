#pragma once

#include <string_view>
#include <vector>

namespace kasten::memory {

// A small built-in lexicon of coarse topics for note tags: about 1,000 common English words in 22 categories
// (location, travel, food, health, fitness, sports, work, family, relationships, pets, hobby, music, entertainment,
// shopping, finance, education, tech, home, transport, fashion, social, schedule). General vocabulary only, not
// keyed to any data set. Lookups are by index term (retrieval::LexicalIndex stems), so inflections match
// ("cooking", "cooked" -> "cook" -> food). Each term has at most one topic.
// Thread-safe; the table is built once, on first use (a few milliseconds).
class TopicLexicon {
  public:
    // The topic of `stem`, or "" when it has none.
    static std::string_view topic_of_stem(std::string_view stem);
    // Every topic label, in a fixed order.
    static const std::vector<std::string_view>& labels();
};

}  // namespace kasten::memory
