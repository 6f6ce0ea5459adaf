#include "memory/topic_lexicon.h"

#include <gtest/gtest.h>

#include <set>

#include "retrieval/lexical_index.h"

namespace kasten::memory {
namespace {

std::string_view topic_of(std::string_view word) {
    const auto stems = retrieval::LexicalIndex::analyze(word);
    return stems.size() == 1 ? TopicLexicon::topic_of_stem(stems[0]) : std::string_view();
}

TEST(TopicLexiconTest, InflectionsShareTheirTopic) {
    EXPECT_EQ(topic_of("puppies"), "pets");
    EXPECT_EQ(topic_of("cooking"), "food");
    EXPECT_EQ(topic_of("cooked"), "food");
    EXPECT_EQ(topic_of("sister"), "family");
    EXPECT_EQ(topic_of("mortgage"), "finance");
    EXPECT_EQ(topic_of("flights"), "travel");
    EXPECT_EQ(topic_of("guitar"), "music");
    EXPECT_EQ(topic_of("laptop"), "tech");
    EXPECT_EQ(topic_of("yoga"), "fitness");
}

TEST(TopicLexiconTest, UnknownAndAmbiguousWordsHaveNoTopic) {
    EXPECT_EQ(topic_of("zyzzyva"), "");
    EXPECT_EQ(TopicLexicon::topic_of_stem(""), "");
    EXPECT_EQ(topic_of("course"), "");  // "of course"
    EXPECT_EQ(topic_of("order"), "");   // "in order to"
}

TEST(TopicLexiconTest, LabelsAreDistinctLowerCase) {
    const auto& labels = TopicLexicon::labels();
    EXPECT_EQ(labels.size(), 22u);
    std::set<std::string_view> distinct(labels.begin(), labels.end());
    EXPECT_EQ(distinct.size(), labels.size());
    for (std::string_view l : labels) {
        for (char c : l) EXPECT_TRUE(c >= 'a' && c <= 'z') << l;
    }
}

}  // namespace
}  // namespace kasten::memory
