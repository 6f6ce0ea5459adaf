#include "memory/hit_reader.h"

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "common/clock.h"
#include "memory/lazy_lease.h"
#include "memory/note_text.h"
#include "memory/reader_pool.h"
#include "memory/recall_queue.h"
#include "memory/store_writer.h"
#include "retrieval/lexical_index.h"

namespace kasten::memory {
namespace {

namespace fs = std::filesystem;

// An on-disk store with cube "c" holding session s_1 ("monday-chat"), turn t_1 and note n_1.
struct Fixture {
    Fixture() : dir(fs::temp_directory_path() / ("kasten-hit-reader-" + std::to_string(::getpid()))) {
        fs::remove_all(dir);
        fs::create_directories(dir);
        const std::string path = (dir / "kasten.db").string();
        writer = StoreWriter::open(path, clock, recalls).value();
        store::EventRecord e;
        e.cube_id = "c";
        e.action = "test.seed";
        auto seq = writer->commit(e, [&](Repositories& repos, store::EventRecord&) -> Status {
            store::CubeRecord c;
            c.id = "c";
            c.name = "c";
            c.created_at = 1;
            KASTEN_RETURN_IF_ERROR(repos.cubes.create(c));
            store::SessionRecord s;
            s.id = "s_1";
            s.cube_id = "c";
            s.external_id = "monday-chat";
            s.started_at = 5;
            KASTEN_RETURN_IF_ERROR(repos.sessions.insert(s));
            store::TurnRecord t;
            t.id = "t_1";
            t.cube_id = "c";
            t.session_id = "s_1";
            t.index = 0;
            t.role = "user";
            t.content = "I adopted a beagle called Biscuit";
            t.conv_time = 7;
            KASTEN_RETURN_IF_ERROR(repos.turns.insert(t));
            KASTEN_RETURN_IF_ERROR(repos.notes.insert(note));
            return Status::ok();
        });
        EXPECT_TRUE(seq.is_ok()) << seq.status().to_string();
        readers = ReaderPool::open(path, 1).value();
    }
    ~Fixture() {
        readers.reset();
        writer.reset();
        fs::remove_all(dir);
    }
    static store::NoteRecord make_note() {
        store::NoteRecord n;
        n.id = "n_1";
        n.cube_id = "c";
        n.content = "Biscuit is a beagle";
        n.keywords = {"biscuit", "beagle"};
        return n;
    }
    fs::path dir;
    FakeClock clock{1700000000000};
    RecallQueue recalls;
    std::unique_ptr<StoreWriter> writer;
    std::unique_ptr<ReaderPool> readers;
    store::NoteRecord note = make_note();
};

TEST(LazyLeaseTest, TakesTheLeaseOnFirstUseOnly) {
    Fixture f;
    LazyLease lease(*f.readers);
    EXPECT_FALSE(lease.taken());
    auto first = lease.get();
    ASSERT_TRUE(first.is_ok()) << first.status().to_string();
    EXPECT_TRUE(lease.taken());
    auto again = lease.get();
    ASSERT_TRUE(again.is_ok());
    EXPECT_EQ(*first, *again);  // one lease: the pool's single connection, held until the end
    EXPECT_TRUE((*first)->cubes.get("c").is_ok());
}

TEST(HitReaderTest, AMissReadsTheStoreOnceAndCachesWhatItRead) {
    Fixture f;
    HitCache cache(1 << 20);
    {
        LazyLease lease(*f.readers);
        HitReader reads(cache, lease, "c", cache.epoch("c"));
        ASSERT_TRUE(reads.cube_exists().is_ok());
        auto t = reads.turn("t_1");
        ASSERT_TRUE(t.is_ok() && *t);
        EXPECT_EQ((*t)->content, "I adopted a beagle called Biscuit");
        EXPECT_EQ((*t)->session_id, "s_1");
        EXPECT_EQ((*t)->role, "user");
        EXPECT_EQ((*t)->conv_time, 7);
        ASSERT_TRUE((*t)->terms);  // its analysis, packed: which query terms it holds, without analysing it again
        EXPECT_EQ((*t)->terms->among({"beagl", "biscuit", "dog"}).terms,
                  retrieval::LexicalIndex::analyze_text_among((*t)->content, {"beagl", "biscuit", "dog"}).terms);
        EXPECT_EQ((*t)->terms->among({"beagl"}).terms.size(), 1u);
        EXPECT_EQ(reads.session_external_id("s_1").value().value_or(""), "monday-chat");
        ASSERT_TRUE(reads.note_terms("n_1").value());
        EXPECT_TRUE(lease.taken());
    }
    EXPECT_TRUE(cache.has_cube("c"));
    EXPECT_EQ(cache.entries(), 4u);
    // Everything is cached now: a second search reads no row and takes no connection.
    LazyLease lease(*f.readers);
    HitReader reads(cache, lease, "c", cache.epoch("c"));
    ASSERT_TRUE(reads.cube_exists().is_ok());
    EXPECT_TRUE(reads.turn("t_1").value());
    EXPECT_TRUE(reads.session_external_id("s_1").value());
    EXPECT_TRUE(reads.note_terms("n_1").value());
    EXPECT_FALSE(lease.taken());
}

TEST(HitReaderTest, ANotesTermsComeFromTheCacheOrTheStoreAndAreCachedWithItsText) {
    Fixture f;
    const std::vector<std::string> query = {"beagl", "biscuit", "dog"};
    const auto expected = retrieval::LexicalIndex::analyze_text_among(note_index_text(f.note), query).terms;
    HitCache cache(1 << 20);
    {
        // A miss: read from the store, analysed, cached with its text.
        LazyLease lease(*f.readers);
        HitReader reads(cache, lease, "c", cache.epoch("c"));
        auto terms = reads.note_terms("n_1");
        ASSERT_TRUE(terms.is_ok() && *terms);
        EXPECT_EQ((*terms)->among(query).terms, expected);
        EXPECT_TRUE(lease.taken());
        EXPECT_FALSE(reads.note_terms("n_missing").value());
    }
    EXPECT_EQ(cache.note_text("c", "n_1").value_or(""), note_index_text(f.note));
    ASSERT_TRUE(cache.note_terms("c", "n_1"));
    {
        // A hit: no store read.
        LazyLease lease(*f.readers);
        HitReader reads(cache, lease, "c", cache.epoch("c"));
        EXPECT_EQ(reads.note_terms("n_1").value()->among(query).terms, expected);
        EXPECT_FALSE(lease.taken());
    }
    // An entry cached without its analysis (text only): analysed from the cached text, no store read.
    HitCache text_only(1 << 20);
    text_only.put_note("c", "n_1", "a dog called Biscuit", false);
    EXPECT_FALSE(text_only.note_terms("c", "n_1"));
    LazyLease lease(*f.readers);
    HitReader reads(text_only, lease, "c", text_only.epoch("c"));
    EXPECT_EQ(reads.note_terms("n_1").value()->among(query).terms,
              retrieval::LexicalIndex::analyze_text_among("a dog called Biscuit", query).terms);
    EXPECT_FALSE(lease.taken());
    EXPECT_TRUE(text_only.note_terms("c", "n_1"));
}

TEST(HitReaderTest, WhatTheStoreLacksIsNotFoundAndNotCached) {
    Fixture f;
    HitCache cache(1 << 20);
    LazyLease lease(*f.readers);
    HitReader reads(cache, lease, "c", cache.epoch("c"));
    EXPECT_FALSE(reads.turn("t_missing").value());
    EXPECT_FALSE(reads.session_external_id("s_missing").value());
    EXPECT_FALSE(reads.note_terms("n_missing").value());
    EXPECT_EQ(cache.entries(), 0u);
    HitReader elsewhere(cache, lease, "nope", cache.epoch("nope"));
    EXPECT_EQ(elsewhere.cube_exists().code(), StatusCode::kNotFound);
    EXPECT_FALSE(cache.has_cube("nope"));
}

// A reader whose snapshot predates a change misses (the writer's new entry was evicted) and reads the old version:
// it must not cache it, or every later search would show the old text.
TEST(HitReaderTest, AReadFromAnOlderSnapshotIsNotCachedAfterAChange) {
    Fixture f;
    HitCache cache(6000);  // a few entries
    {
        LazyLease lease(*f.readers);
        HitReader reads(cache, lease, "c", cache.epoch("c"));
        ASSERT_TRUE(reads.cube_exists().is_ok());  // the snapshot begins here
        // The writer changes the note and, as IndexSync does after the commit, caches the new text; then other
        // entries push it out.
        store::NoteRecord next = f.note;
        next.content = "Biscuit is a greyhound now";
        store::EventRecord e;
        e.cube_id = "c";
        e.action = "test.update";
        ASSERT_TRUE(f.writer
                        ->commit(e, [&](Repositories& repos,
                                        store::EventRecord&) { return repos.notes.update(next, "test", "test", 9); })
                        .is_ok());
        cache.put_note("c", "n_1", note_index_text(next), /*changed=*/true);
        for (int i = 0; i < 10; ++i) {
            cache.put_turn("c", "t_x" + std::to_string(i),
                           HitCache::Turn{"s_1", "user", std::string(1000, 'x'), 1, nullptr}, false);
        }
        ASSERT_FALSE(cache.note_text("c", "n_1"));
        auto old_terms = reads.note_terms("n_1");
        ASSERT_TRUE(old_terms.is_ok() && *old_terms);
        EXPECT_TRUE((*old_terms)->among({"greyhound"}).terms.empty());  // its snapshot's version
        EXPECT_FALSE(cache.note_text("c", "n_1"));                      // not cached
    }
    // The next search reads the new version, and caches it.
    LazyLease lease(*f.readers);
    HitReader reads(cache, lease, "c", cache.epoch("c"));
    auto terms = reads.note_terms("n_1");
    ASSERT_TRUE(terms.is_ok() && *terms);
    EXPECT_EQ((*terms)->among({"greyhound"}).terms.size(), 1u);
    EXPECT_EQ(cache.note_terms("c", "n_1"), *terms);
    EXPECT_NE(cache.note_text("c", "n_1").value_or("").find("greyhound"), std::string::npos);
}

}  // namespace
}  // namespace kasten::memory
