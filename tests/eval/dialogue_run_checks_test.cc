#include "eval/dialogue_run_checks.h"

#include <gtest/gtest.h>

namespace kasten::eval {
namespace {

TEST(DialogueRunChecksTest, AcceptsBaselineAndKastenRetrieversWithEmbedder) {
    EXPECT_TRUE(check_dialogue_retrievers({"bm25"}, false).is_ok());
    EXPECT_TRUE(check_dialogue_retrievers({"bm25", "lexical", "vector", "hybrid"}, true).is_ok());
}

TEST(DialogueRunChecksTest, RejectsEmptyUnknownTwiceAndKastenWithoutEmbedder) {
    Status s = check_dialogue_retrievers({}, true);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(s.message(), "no retriever given");
    s = check_dialogue_retrievers({"bm25", "dense"}, true);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
    EXPECT_NE(s.message().find("'dense'"), std::string::npos);
    s = check_dialogue_retrievers({"hybrid", "hybrid"}, true);
    EXPECT_EQ(s.message(), "retriever 'hybrid' given twice");
    s = check_dialogue_retrievers({"bm25", "lexical"}, false);
    EXPECT_EQ(s.message(), "kasten retrievers need an embedder");
}

TEST(DialogueRunChecksTest, ReaderSettings) {
    EXPECT_TRUE(check_reader_settings(5, {"retrieval", "full"}, "bm25", {"bm25", "hybrid"}).is_ok());
    EXPECT_TRUE(check_reader_settings(1, {"full"}, "", {"bm25"}).is_ok());
    EXPECT_EQ(check_reader_settings(0, {}, "", {"bm25"}).message(), "reader top-k must be at least 1");
    EXPECT_EQ(check_reader_settings(5, {"all"}, "", {"bm25"}).message(), "unknown reader context 'all'");
    Status s = check_reader_settings(5, {"retrieval"}, "vector", {"bm25", "hybrid"});
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(s.message(), "the reader's retriever 'vector' is not in the run");
}

}  // namespace
}  // namespace kasten::eval
