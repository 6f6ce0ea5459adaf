#include "memory/hit_cache.h"

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "retrieval/lexical_index.h"
#include "retrieval/term_bag.h"

namespace kasten::memory {
namespace {

HitCache::Turn turn_of(const std::string& text) {
    return HitCache::Turn{"s_1", "user", text, 42, nullptr};
}

TEST(HitCacheTest, ANoteKeepsItsPackedAnalysisBesideItsText) {
    HitCache cache(1 << 20);
    cache.put_note("c", "n_1", "Biscuit is a beagle", false);
    EXPECT_FALSE(cache.note_terms("c", "n_1"));  // put without one
    auto bag = std::make_shared<const retrieval::TermBag>(
        retrieval::TermBag::of(retrieval::LexicalIndex::analyze_text("Biscuit is a beagle")));
    const std::size_t before = cache.bytes();
    cache.put_note("c", "n_1", "Biscuit is a beagle", false, bag);
    EXPECT_EQ(cache.note_terms("c", "n_1"), bag);
    EXPECT_EQ(cache.bytes(), before + bag->bytes());  // counted against the capacity
    EXPECT_EQ(cache.note_text("c", "n_1").value_or(""), "Biscuit is a beagle");
    EXPECT_FALSE(cache.note_terms("c", "t_1"));
    EXPECT_FALSE(cache.note_terms("d", "n_1"));
    ASSERT_TRUE(cache.put_note_if(cache.epoch("c"), "c", "n_2", "text", bag));
    EXPECT_EQ(cache.note_terms("c", "n_2"), bag);
    cache.erase_note("c", "n_1");
    EXPECT_FALSE(cache.note_terms("c", "n_1"));
}

TEST(HitCacheTest, HoldsEachKindApartPerCube) {
    HitCache cache(1 << 20);
    EXPECT_FALSE(cache.turn("c", "t_1"));
    EXPECT_FALSE(cache.has_cube("c"));
    cache.put_turn("c", "t_1", turn_of("I adopted a beagle"), false);
    cache.put_session("c", "s_1", "monday-chat", false);
    cache.put_note("c", "n_1", "Biscuit is a beagle", false);
    ASSERT_TRUE(cache.put_cube_if(cache.epoch("c"), "c"));

    auto t = cache.turn("c", "t_1");
    ASSERT_TRUE(t);
    EXPECT_EQ(t->session_id, "s_1");
    EXPECT_EQ(t->role, "user");
    EXPECT_EQ(t->content, "I adopted a beagle");
    EXPECT_EQ(t->conv_time, 42);
    EXPECT_EQ(cache.session_external_id("c", "s_1").value_or(""), "monday-chat");
    EXPECT_EQ(cache.note_text("c", "n_1").value_or(""), "Biscuit is a beagle");
    EXPECT_TRUE(cache.has_cube("c"));
    // Same ids, other kind or other cube: nothing.
    EXPECT_FALSE(cache.note_text("c", "t_1"));
    EXPECT_FALSE(cache.turn("d", "t_1"));
    EXPECT_FALSE(cache.has_cube("d"));
    EXPECT_EQ(cache.entries(), 4u);
    EXPECT_EQ(cache.hits(), 4u);    // the turn, session, note and cube found above
    EXPECT_EQ(cache.misses(), 5u);  // two before the puts, three after
}

TEST(HitCacheTest, EvictsTheLeastRecentlyUsedToStayWithinItsBytes) {
    const std::string text(1000, 'x');
    HitCache cache(5000);  // about four such entries
    for (int i = 0; i < 8; ++i) cache.put_turn("c", "t_" + std::to_string(i), turn_of(text), false);
    EXPECT_LE(cache.bytes(), cache.capacity_bytes());
    EXPECT_LT(cache.entries(), 8u);
    EXPECT_TRUE(cache.turn("c", "t_7"));
    EXPECT_FALSE(cache.turn("c", "t_0"));  // the oldest went first

    // A read makes an entry recent: it outlives entries put after it.
    HitCache lru(5000);
    lru.put_turn("c", "a", turn_of(text), false);
    lru.put_turn("c", "b", turn_of(text), false);
    ASSERT_TRUE(lru.turn("c", "a"));
    for (int i = 0; i < 3; ++i) lru.put_turn("c", "n" + std::to_string(i), turn_of(text), false);
    EXPECT_TRUE(lru.turn("c", "a"));
    EXPECT_FALSE(lru.turn("c", "b"));

    // Replacing an entry accounts for its new size.
    HitCache sized(1 << 20);
    sized.put_turn("c", "t", turn_of(std::string(5000, 'y')), false);
    const std::size_t big = sized.bytes();
    sized.put_turn("c", "t", turn_of("short"), true);
    EXPECT_LT(sized.bytes(), big - 4000);
    EXPECT_EQ(sized.entries(), 1u);
}

TEST(HitCacheTest, AnEntryLargerThanTheCacheOrAZeroCapacityKeepsNothing) {
    HitCache small(500);
    small.put_turn("c", "t", turn_of("kept"), false);
    small.put_turn("c", "t", turn_of(std::string(1000, 'z')), true);  // too large: the old version must not stay
    EXPECT_FALSE(small.turn("c", "t"));
    EXPECT_EQ(small.bytes(), 0u);

    HitCache off(0);
    off.put_note("c", "n", "text", false);
    EXPECT_FALSE(off.put_turn_if(off.epoch("c"), "c", "t", turn_of("text")));
    EXPECT_FALSE(off.note_text("c", "n"));
    EXPECT_FALSE(off.turn("c", "t"));
    EXPECT_EQ(off.entries(), 0u);
}

// The protocol of a reader that missed: it took the epoch before its snapshot began, so a unit changed since (its
// snapshot may hold the old version) is never cached from it, while new units leave the epoch alone.
TEST(HitCacheTest, AReaderCannotCacheWhatChangedAfterItsEpoch) {
    HitCache cache(1 << 20);
    const std::uint64_t before = cache.epoch("c");
    cache.put_turn("c", "t_new", turn_of("a new turn"), /*changed=*/false);  // an add: the epoch stays
    EXPECT_EQ(cache.epoch("c"), before);
    EXPECT_TRUE(cache.put_note_if(before, "c", "n_1", "old text"));

    const std::uint64_t reader = cache.epoch("c");  // a second reader begins
    cache.put_note("c", "n_1", "new text", /*changed=*/true);
    EXPECT_NE(cache.epoch("c"), reader);
    EXPECT_FALSE(cache.put_note_if(reader, "c", "n_1", "old text"));
    EXPECT_EQ(cache.note_text("c", "n_1").value_or(""), "new text");

    // An erase moves the epoch too: a removed unit read from an older snapshot does not come back.
    const std::uint64_t third = cache.epoch("c");
    cache.erase_turn("c", "t_new");
    EXPECT_FALSE(cache.put_turn_if(third, "c", "t_new", turn_of("a new turn")));
    EXPECT_FALSE(cache.turn("c", "t_new"));

    // Changes to one cube leave another cube's readers alone.
    const std::uint64_t other = cache.epoch("d");
    cache.put_note("c", "n_1", "newer text", true);
    cache.erase_session("c", "s_1");
    EXPECT_TRUE(cache.put_session_if(other, "d", "s_9", "ext"));
}

TEST(HitCacheTest, ErasingACubeDropsAllItsEntriesAndItsEpochNeverComesBack) {
    HitCache cache(1 << 20);
    ASSERT_TRUE(cache.put_cube_if(cache.epoch("c"), "c"));
    ASSERT_TRUE(cache.put_cube_if(cache.epoch("d"), "d"));
    cache.put_turn("c", "t_1", turn_of("one"), false);
    cache.put_note("c", "n_1", "note", false);
    cache.put_turn("d", "t_1", turn_of("other cube"), false);
    const std::uint64_t old_reader = cache.epoch("c");
    cache.erase_cube("c");
    EXPECT_FALSE(cache.has_cube("c"));
    EXPECT_FALSE(cache.turn("c", "t_1"));
    EXPECT_FALSE(cache.note_text("c", "n_1"));
    EXPECT_TRUE(cache.has_cube("d"));
    EXPECT_TRUE(cache.turn("d", "t_1"));
    EXPECT_EQ(cache.entries(), 2u);
    // The cube is created again and changes again: a reader of the first cube still cannot put.
    cache.erase_cube("c");
    EXPECT_NE(cache.epoch("c"), old_reader);
    EXPECT_FALSE(cache.put_cube_if(old_reader, "c"));
    EXPECT_FALSE(cache.has_cube("c"));
}

TEST(HitCacheTest, ConcurrentReadersAndWritersKeepTheBoundAndTheirEntries) {
    HitCache cache(64 * 1024);
    std::atomic<bool> wrong{false};
    std::vector<std::thread> threads;
    for (int w = 0; w < 4; ++w) {
        threads.emplace_back([&, w] {
            const std::string cube = "c" + std::to_string(w % 2);
            for (int i = 0; i < 3000; ++i) {
                const std::string id = "t_" + std::to_string(w) + "_" + std::to_string(i % 200);
                const std::string text = id + std::string(static_cast<std::size_t>(i % 300), '.');
                switch (i % 5) {
                    case 0:
                        cache.put_turn(cube, id, turn_of(text), i % 2 == 0);
                        break;
                    case 1:
                        cache.put_turn_if(cache.epoch(cube), cube, id, turn_of(text));
                        break;
                    case 2:
                        cache.erase_turn(cube, id);
                        break;
                    default:
                        // Whatever version is found, it is one this id was written with.
                        if (auto t = cache.turn(cube, id); t && t->content.compare(0, id.size(), id) != 0) {
                            wrong = true;
                        }
                }
                if (i % 1000 == 999 && w == 0) cache.erase_cube("c1");
            }
        });
    }
    for (auto& t : threads) t.join();
    EXPECT_FALSE(wrong.load());
    EXPECT_LE(cache.bytes(), cache.capacity_bytes());
}

}  // namespace
}  // namespace kasten::memory
