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

namespace kasten::memory {
namespace {

LexicalWriter::Task add_terms(const std::string& cube, const std::string& text, std::int64_t seq) {
    LexicalWriter::Task t;
    t.attrs = retrieval::UnitAttrs{cube, retrieval::UnitType::kSession, "s1", 1, "", "s1"};
    t.analysis = retrieval::LexicalIndex::analyze_text(text);
    t.seq = seq;
    t.op = LexicalWriter::Op::kAddTerms;
    return t;
}

// Term additions to one unit build the same document whether they are coalesced or applied one by one.
TEST(LexicalWriterTest, CoalescedTermAdditionsBuildTheWholeDocument) {
    auto index = retrieval::LexicalIndex::in_memory();
    {
        LexicalWriter writer(*index, /*background=*/true, 1000000, "wm");
        for (int i = 0; i < 300; ++i) {
            ASSERT_TRUE(
                writer.enqueue(add_terms("c", "turn " + std::to_string(i) + " mentions walrus", 1 + i)).is_ok());
        }
        writer.drain();
        EXPECT_EQ(writer.applied(), 300);
    }
    auto sync_index = retrieval::LexicalIndex::in_memory();
    LexicalWriter sync(*sync_index, /*background=*/false, 1000000, "wm");
    for (int i = 0; i < 300; ++i) {
        ASSERT_TRUE(sync.enqueue(add_terms("c", "turn " + std::to_string(i) + " mentions walrus", 1 + i)).is_ok());
    }
    retrieval::SearchFilter f;
    f.cube_id = "c";
    f.type = retrieval::UnitType::kSession;
    EXPECT_EQ(index->count("c", retrieval::UnitType::kSession).value(), 1u);
    // Same document, same BM25 score for any query.
    for (const char* q : {"walrus", "turn 17", "mentions 299"}) {
        auto a = index->search(q, f, 5).value();
        auto b = sync_index->search(q, f, 5).value();
        ASSERT_EQ(a.size(), 1u) << q;
        ASSERT_EQ(b.size(), 1u) << q;
        EXPECT_DOUBLE_EQ(a[0].score, b[0].score) << q;
    }
}

// A cube's read barrier does not wait for another cube's queued changes, and does wait for its own.
TEST(LexicalWriterTest, ACubesBarrierWaitsOnlyForThatCube) {
    auto index = retrieval::LexicalIndex::in_memory();
    LexicalWriter writer(*index, /*background=*/true, 1000000, "wm");
    writer.drain_cube("nobody");  // nothing queued for it: returns at once
    ASSERT_TRUE(writer.enqueue(add_terms("a", "otters in the river", 1)).is_ok());
    writer.drain_cube("a");
    retrieval::SearchFilter f;
    f.cube_id = "a";
    f.type = retrieval::UnitType::kSession;
    EXPECT_EQ(index->search("otters", f, 5).value().size(), 1u) << "its own change is searchable after its barrier";
    for (int i = 0; i < 2000; ++i) ASSERT_TRUE(writer.enqueue(add_terms("b", "filler text", 2 + i)).is_ok());
    writer.drain_cube("a");  // returns without waiting for cube b's 2,000 queued changes (no assertion on time)
    writer.drain();
    EXPECT_EQ(writer.applied(), 2001);
}

}  // namespace
}  // namespace kasten::memory
