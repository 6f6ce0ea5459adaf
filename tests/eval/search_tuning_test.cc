#include "eval/search_tuning.h"

#include <gtest/gtest.h>

namespace kasten::eval {
namespace {

TEST(SearchTuningTest, ParsesAppliesAndReportsSettings) {
    auto t = SearchTuning::parse("note_key_weight=0.25,fusion=rrf,rrf_k=30,temporal_weight=0");
    ASSERT_TRUE(t.is_ok()) << t.status().to_string();
    memory::MemoryOptions options;
    t->apply(options);
    EXPECT_DOUBLE_EQ(options.note_key_weight, 0.25);
    EXPECT_EQ(options.fusion, memory::Fusion::kReciprocalRank);
    EXPECT_DOUBLE_EQ(options.rrf_k, 30);
    EXPECT_DOUBLE_EQ(options.temporal_weight, 0);
    EXPECT_DOUBLE_EQ(options.lexical_weight, 1.0);  // untouched
    EXPECT_EQ(t->to_json().dump(), R"({"note_key_weight":0.25,"temporal_weight":0.0,"fusion":"rrf","rrf_k":30.0})");
    EXPECT_TRUE(SearchTuning::parse("").value().empty());
    EXPECT_TRUE(SearchTuning::parse("").value().to_json().empty());
}

TEST(SearchTuningTest, RejectsBadSettings) {
    for (const char* bad : {"note_key_weight", "unknown=1", "note_key_weight=x", "note_key_weight=-1", "fusion=max",
                            "rrf_k=0", "lexical_weight=nan", "a=1,,b=2", "note_key_weight=1e999"}) {
        auto t = SearchTuning::parse(bad);
        EXPECT_EQ(t.status().code(), StatusCode::kInvalidArgument) << bad;
    }
}

}  // namespace
}  // namespace kasten::eval
