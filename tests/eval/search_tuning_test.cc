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
    EXPECT_EQ(t->to_json().dump(), R"({"note_key_weight":0.25,"temporal_weight":0.0,"rrf_k":30.0,"fusion":"rrf"})");
    EXPECT_TRUE(SearchTuning::parse("").value().empty());
    EXPECT_TRUE(SearchTuning::parse("").value().to_json().empty());
}

TEST(SearchTuningTest, EveryNumericSettingReachesItsOption) {
    auto t = SearchTuning::parse(
        "note_key_weight=0.1,temporal_weight=0.2,lexical_weight=0.3,vector_weight=0.4,rrf_k=5,link_decay=0.6,"
        "turn_context_weight=0.7,session_context_weight=0.8,turn_rollup_weight=0.9,subquery_weight=1.5,"
        "second_hop_weight=1.6,event_anchor_weight=1.7,bm25_k1=1.2,bm25_b=0.75");
    ASSERT_TRUE(t.is_ok()) << t.status().to_string();
    memory::MemoryOptions o;
    t->apply(o);
    EXPECT_DOUBLE_EQ(o.note_key_weight, 0.1);
    EXPECT_DOUBLE_EQ(o.temporal_weight, 0.2);
    EXPECT_DOUBLE_EQ(o.lexical_weight, 0.3);
    EXPECT_DOUBLE_EQ(o.vector_weight, 0.4);
    EXPECT_DOUBLE_EQ(o.rrf_k, 5);
    EXPECT_DOUBLE_EQ(o.link_decay, 0.6);
    EXPECT_DOUBLE_EQ(o.turn_context_weight, 0.7);
    EXPECT_DOUBLE_EQ(o.session_context_weight, 0.8);
    EXPECT_DOUBLE_EQ(o.turn_rollup_weight, 0.9);
    EXPECT_DOUBLE_EQ(o.subquery_weight, 1.5);
    EXPECT_DOUBLE_EQ(o.second_hop_weight, 1.6);
    EXPECT_DOUBLE_EQ(o.event_anchor_weight, 1.7);
    EXPECT_DOUBLE_EQ(o.bm25_k1, 1.2);
    EXPECT_DOUBLE_EQ(o.bm25_b, 0.75);
    EXPECT_EQ(t->to_json().size(), 14u);
    EXPECT_NE(SearchTuning::numeric_names().find("turn_rollup_weight"), std::string::npos);
}

TEST(SearchTuningTest, RejectsBadSettings) {
    for (const char* bad :
         {"note_key_weight", "unknown=1", "note_key_weight=x", "note_key_weight=-1", "fusion=max", "rrf_k=0",
          "lexical_weight=nan", "a=1,,b=2", "note_key_weight=1e999", "bm25_b=1.5", "bm25_k1=-0.1"}) {
        auto t = SearchTuning::parse(bad);
        EXPECT_EQ(t.status().code(), StatusCode::kInvalidArgument) << bad;
    }
}

}  // namespace
}  // namespace kasten::eval
