#include "llm/english_stopwords.h"

#include <gtest/gtest.h>

namespace kasten::llm {
namespace {

TEST(EnglishStopwordsTest, FunctionWordsOnly) {
    for (const char* w : {"the", "a", "and", "of", "is", "yourselves", "with", "i"}) {
        EXPECT_TRUE(is_english_stopword(w)) << w;
    }
    for (const char* w : {"not", "no", "cat", "The", "", "market", "thee"}) EXPECT_FALSE(is_english_stopword(w)) << w;
}

}  // namespace
}  // namespace kasten::llm
