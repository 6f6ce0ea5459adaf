#include "memory/lexical_writer.h"

#include <gtest/gtest.h>

namespace kasten::memory {
namespace {

using retrieval::LexicalIndex;
using retrieval::SearchFilter;
using retrieval::UnitAttrs;
using retrieval::UnitType;

LexicalWriter::Task task(int i) {
    LexicalWriter::Task t;
    t.attrs = UnitAttrs{"c", UnitType::kTurn, "t" + std::to_string(i), i, "user", "s"};
    t.analysis = LexicalIndex::analyze_text("parrot number " + std::to_string(i));
    t.known_new = true;
    t.seq = 100 + i;
    return t;
}

SearchFilter turns_of(const std::string& cube) {
    SearchFilter f;
    f.cube_id = cube;
    f.type = UnitType::kTurn;
    return f;
}

TEST(LexicalWriterTest, BackgroundAppliesEverythingInOrderAndCommitsTheWatermark) {
    auto index = LexicalIndex::in_memory();
    {
        LexicalWriter writer(*index, /*background=*/true, /*commit_every=*/10, "wm");
        for (int i = 0; i < 1000; ++i) ASSERT_TRUE(writer.enqueue(task(i)).is_ok());
        writer.drain();
        EXPECT_EQ(index->count("c", UnitType::kTurn).value(), 1000u);
        EXPECT_EQ(index->search("parrot", turns_of("c"), 2000).value().size(), 1000u);
        EXPECT_FALSE(writer.failed());
        // The worker commits after whole batches: the watermark is the seq of some applied task.
        const std::string wm = index->metadata("wm").value();
        ASSERT_FALSE(wm.empty());
        EXPECT_GE(std::stoll(wm), 100);
        EXPECT_LE(std::stoll(wm), 1099);
    }
    EXPECT_EQ(index->count("c", UnitType::kTurn).value(), 1000u);
}

TEST(LexicalWriterTest, DestructionAppliesWhatIsQueued) {
    auto index = LexicalIndex::in_memory();
    {
        LexicalWriter writer(*index, true, 1000000, "wm");
        for (int i = 0; i < 300; ++i) ASSERT_TRUE(writer.enqueue(task(i)).is_ok());
    }
    EXPECT_EQ(index->count("c", UnitType::kTurn).value(), 300u);
    EXPECT_EQ(index->metadata("wm").value(), "");  // below commit_every: never committed by the worker
}

TEST(LexicalWriterTest, SynchronousModeAppliesAtOnceAndReportsErrors) {
    auto index = LexicalIndex::in_memory();
    LexicalWriter writer(*index, /*background=*/false, 10, "wm");
    ASSERT_TRUE(writer.enqueue(task(1)).is_ok());
    EXPECT_EQ(index->count("c", UnitType::kTurn).value(), 1u);
    LexicalWriter::Task bad = task(2);
    bad.attrs.cube_id.clear();
    EXPECT_EQ(writer.enqueue(bad).code(), StatusCode::kInvalidArgument);
}

TEST(LexicalWriterTest, BackgroundFailureIsReported) {
    auto index = LexicalIndex::in_memory();
    LexicalWriter writer(*index, true, 1, "wm");
    LexicalWriter::Task bad = task(2);
    bad.attrs.id.clear();
    ASSERT_TRUE(writer.enqueue(bad).is_ok());
    writer.drain();
    EXPECT_TRUE(writer.failed());
    EXPECT_EQ(index->metadata("wm").value(), "");  // the watermark never moves past a failed task
}

}  // namespace
}  // namespace kasten::memory
