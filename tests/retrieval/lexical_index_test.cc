#include "retrieval/lexical_index.h"

#include <gtest/gtest.h>

#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "lexical_index_v1_fixture.h"
#include "tests/retrieval/search_helpers.h"

namespace kasten::retrieval {
namespace {

namespace fs = std::filesystem;

// A fresh directory under /tmp, removed on destruction.
class TempDir {
  public:
    TempDir() {
        std::string tmpl = (fs::temp_directory_path() / "kasten-lexical-XXXXXX").string();
        char* made = mkdtemp(tmpl.data());
        EXPECT_NE(made, nullptr);
        path_ = tmpl;
    }
    ~TempDir() {
        std::error_code ec;
        fs::remove_all(path_, ec);
    }
    const std::string& path() const { return path_; }

  private:
    std::string path_;
};

UnitAttrs turn(std::string cube, std::string id, TimeMs time = 0, std::string role = "user",
               std::string session = "s1") {
    return UnitAttrs{std::move(cube), UnitType::kTurn, std::move(id), time, std::move(role), std::move(session)};
}

using test_support::ids_of;
using test_support::in_cube;

enum class Backend { kInMemory, kOnDisk };

// Every behaviour test runs on both backends.
class LexicalIndexTest : public ::testing::TestWithParam<Backend> {
  protected:
    void SetUp() override {
        if (GetParam() == Backend::kInMemory) {
            index_ = LexicalIndex::in_memory();
        } else {
            dir_ = std::make_unique<TempDir>();
            auto opened = LexicalIndex::open(dir_->path() + "/lexical");
            ASSERT_TRUE(opened.is_ok()) << opened.status().to_string();
            index_ = std::move(opened).value();
        }
    }
    void TearDown() override {
        index_.reset();
        dir_.reset();
    }

    void put(const UnitAttrs& a, std::string_view text) {
        Status s = index_->upsert(a, text);
        ASSERT_TRUE(s.is_ok()) << s.to_string();
    }

    std::vector<ScoredId> search(std::string_view q, const SearchFilter& f, int k = 10) {
        auto r = index_->search(q, f, k);
        EXPECT_TRUE(r.is_ok()) << r.status().to_string();
        return r.is_ok() ? r.value() : std::vector<ScoredId>{};
    }
    std::vector<std::string> search_ids(std::string_view q, const SearchFilter& f, int k = 10) {
        return ids_of(search(q, f, k));
    }

    std::unique_ptr<TempDir> dir_;
    std::unique_ptr<LexicalIndex> index_;
};

INSTANTIATE_TEST_SUITE_P(Backends, LexicalIndexTest, ::testing::Values(Backend::kInMemory, Backend::kOnDisk),
                         [](const auto& info) { return info.param == Backend::kInMemory ? "InMemory" : "OnDisk"; });

TEST_P(LexicalIndexTest, StemmingMatchesWordForms) {
    put(turn("c", "t1"), "She runs every morning before work.");
    put(turn("c", "t2"), "The weather was cold.");
    EXPECT_EQ(search_ids("running", in_cube("c")), std::vector<std::string>{"t1"});
    EXPECT_EQ(search_ids("runner runs", in_cube("c")), std::vector<std::string>{"t1"});
    EXPECT_EQ(search_ids("mornings", in_cube("c")), std::vector<std::string>{"t1"});
    // Capitalised query words are stemmed too (a question's first word is capitalised).
    EXPECT_EQ(search_ids("Running", in_cube("c")), std::vector<std::string>{"t1"});
    put(turn("c", "t3"), "music of the 1990s and Berlin's clubs");
    EXPECT_EQ(search_ids("1990s", in_cube("c")), std::vector<std::string>{"t3"});
    EXPECT_EQ(search_ids("BERLIN", in_cube("c")), std::vector<std::string>{"t3"});
}

TEST_P(LexicalIndexTest, BooleanSyntaxAndQuotes) {
    put(turn("c", "both"), "cats and dogs play");
    put(turn("c", "cats"), "cats sleep");
    put(turn("c", "dogs"), "dogs bark");
    EXPECT_EQ(search_ids("cats AND dogs", in_cube("c")), std::vector<std::string>{"both"});
    EXPECT_EQ(search_ids("cats -dogs", in_cube("c")), std::vector<std::string>{"cats"});
    EXPECT_EQ(search("cats OR dogs", in_cube("c")).size(), 3u);
    EXPECT_EQ(search("cats dogs", in_cube("c")).size(), 3u);
    EXPECT_EQ(search_ids("cats dogs", in_cube("c")).at(0), "both");
    // Quotes do not make a phrase (no positions); stopwords inside them are still dropped.
    EXPECT_EQ(search_ids("\"the cats\"", in_cube("c")).size(), 2u);
    // Well-formed groups are honoured; malformed boolean syntax (which Xapian's parser would reject, leaking memory)
    // is an OR of the words.
    EXPECT_EQ(search_ids("(cats AND dogs)", in_cube("c")), std::vector<std::string>{"both"});
    EXPECT_EQ(search_ids("cats AND (dogs OR play)", in_cube("c")), std::vector<std::string>{"both"});
    EXPECT_EQ(search("cats AND", in_cube("c")).size(), 2u);
    EXPECT_EQ(search("AND cats", in_cube("c")).size(), 2u);
    EXPECT_EQ(search("(cats AND dogs", in_cube("c")).size(), 3u);
    EXPECT_EQ(search("cats AND (dogs OR)", in_cube("c")).size(), 3u);
    EXPECT_EQ(search("OR(cats dogs)", in_cube("c")).size(), 3u);
    EXPECT_EQ(search("cats () dogs", in_cube("c")).size(), 3u);
    EXPECT_EQ(search("cats NEAR dogs", in_cube("c")).size(), 3u);
}

TEST_P(LexicalIndexTest, SearchTermsRanksLikeThePlainWordQuery) {
    put(turn("c", "both"), "Hiking boots for the Alps and hiking poles");
    put(turn("c", "boots"), "New boots");
    put(turn("c", "none"), "The weather was cold");
    put(turn("other", "both"), "Hiking boots for the Alps");
    const auto terms = LexicalIndex::analyze("hiking boots Alps");
    auto by_terms = index_->search_terms(terms, in_cube("c"), 10);
    ASSERT_TRUE(by_terms.is_ok()) << by_terms.status().to_string();
    const auto by_text = search("hiking boots Alps", in_cube("c"));
    ASSERT_EQ(by_terms->size(), by_text.size());
    ASSERT_EQ(by_terms->size(), 2u);
    for (std::size_t i = 0; i < by_text.size(); ++i) {
        EXPECT_EQ((*by_terms)[i].id, by_text[i].id);
        EXPECT_DOUBLE_EQ((*by_terms)[i].score, by_text[i].score);
    }
    EXPECT_TRUE(index_->search_terms({}, in_cube("c"), 10)->empty());
    EXPECT_TRUE(index_->search_terms(terms, in_cube("c"), 0)->empty());
    EXPECT_EQ(index_->search_terms(terms, in_cube(""), 10).status().code(), StatusCode::kInvalidArgument);
}

TEST_P(LexicalIndexTest, SearchSeesUncommittedUpserts) {
    put(turn("c", "t1"), "adopted a greyhound named Biscuit");
    EXPECT_GT(index_->pending_changes(), 0u);
    EXPECT_EQ(search_ids("greyhound", in_cube("c")), std::vector<std::string>{"t1"});
    ASSERT_TRUE(index_->commit().is_ok());
    EXPECT_EQ(index_->pending_changes(), 0u);
    EXPECT_EQ(search_ids("biscuit", in_cube("c")), std::vector<std::string>{"t1"});
}

TEST_P(LexicalIndexTest, StopwordsAreIgnored) {
    put(turn("c", "t1"), "the cat sat on the mat");
    put(turn("c", "t2"), "the the the the of and a dog");
    EXPECT_TRUE(search("the and of", in_cube("c")).empty());
    EXPECT_TRUE(search("", in_cube("c")).empty());
    EXPECT_TRUE(search("   \t\n ", in_cube("c")).empty());
    EXPECT_TRUE(search("What was it?", in_cube("c")).empty());
    // Stopwords neither add matches nor change scores.
    auto plain = search("cat", in_cube("c"));
    auto padded = search("what about the cat", in_cube("c"));
    ASSERT_EQ(ids_of(plain), std::vector<std::string>{"t1"});
    ASSERT_EQ(ids_of(padded), std::vector<std::string>{"t1"});
    EXPECT_DOUBLE_EQ(plain[0].score, padded[0].score);
}

TEST_P(LexicalIndexTest, Bm25RankingSanity) {
    put(turn("c", "once"), "I like hiking in the mountains and also reading books about gardens");
    put(turn("c", "twice"), "hiking hiking trips");
    put(turn("c", "none"), "cooking pasta tonight");
    put(turn("c", "rare"), "my sister visited Lisbon");
    for (int i = 0; i < 20; ++i) put(turn("c", "filler" + std::to_string(i)), "we talked about the weather today");
    auto hits = search("hiking", in_cube("c"));
    ASSERT_EQ(ids_of(hits), (std::vector<std::string>{"twice", "once"}));
    EXPECT_GT(hits[0].score, hits[1].score);
    EXPECT_GT(hits[1].score, 0);
    // A rare term outweighs a common one.
    auto mixed = search("weather lisbon", in_cube("c"), 3);
    ASSERT_FALSE(mixed.empty());
    EXPECT_EQ(mixed[0].id, "rare");
    EXPECT_EQ(search("absent", in_cube("c")).size(), 0u);
    EXPECT_EQ(search("weather", in_cube("c"), 5).size(), 5u);
}

TEST_P(LexicalIndexTest, CubeAndTypeIsolation) {
    put(turn("alice", "t1"), "secret garden plans");
    put(turn("bob", "t1"), "secret garden plans");
    put(turn("bob", "t2"), "garden party");
    put(UnitAttrs{"alice", UnitType::kNote, "n1", 0, "", ""}, "garden note");
    put(UnitAttrs{"alice", UnitType::kSession, "s1", 0, "", "s1"}, "garden session summary");
    EXPECT_EQ(search_ids("garden", in_cube("alice")), std::vector<std::string>{"t1"});
    EXPECT_EQ(search_ids("garden", in_cube("bob")).size(), 2u);
    EXPECT_EQ(search_ids("garden", in_cube("alice", UnitType::kNote)), std::vector<std::string>{"n1"});
    EXPECT_EQ(search_ids("garden", in_cube("alice", UnitType::kSession)), std::vector<std::string>{"s1"});
    EXPECT_TRUE(search("garden", in_cube("carol")).empty());
    // The same id in two cubes is two documents.
    ASSERT_TRUE(index_->remove("alice", UnitType::kTurn, "t1").is_ok());
    EXPECT_TRUE(search("secret", in_cube("alice")).empty());
    EXPECT_EQ(search_ids("secret", in_cube("bob")), std::vector<std::string>{"t1"});
    EXPECT_EQ(index_->count("bob", UnitType::kTurn).value(), 2u);
    EXPECT_EQ(index_->count("alice", UnitType::kTurn).value(), 0u);
    EXPECT_EQ(index_->count("alice", UnitType::kNote).value(), 1u);
}

TEST_P(LexicalIndexTest, Filters) {
    put(turn("c", "u1", 1000, "user", "s1"), "booked a flight to Tokyo");
    put(turn("c", "a1", 2000, "assistant", "s1"), "your flight to Tokyo is confirmed");
    put(turn("c", "u2", 3000, "user", "s2"), "cancel the flight to Tokyo");
    put(turn("c", "a2", 4000, "assistant", "s2"), "the flight is cancelled");
    SearchFilter f = in_cube("c");
    f.role = "user";
    EXPECT_EQ(search(("flight"), f).size(), 2u);
    f.session_id = "s2";
    EXPECT_EQ(search_ids("flight", f), std::vector<std::string>{"u2"});
    f.role.reset();
    EXPECT_EQ(search("flight", f).size(), 2u);
    f.session_id.reset();
    f.time_from = 2000;
    f.time_to = 3000;  // inclusive on both ends
    auto in_range = search_ids("flight", f);
    std::sort(in_range.begin(), in_range.end());
    EXPECT_EQ(in_range, (std::vector<std::string>{"a1", "u2"}));
    f.time_to.reset();
    EXPECT_EQ(search("flight", f).size(), 3u);
    f.time_from.reset();
    f.time_to = 1000;
    EXPECT_EQ(search_ids("flight", f), std::vector<std::string>{"u1"});
    f.time_from = 3000;  // from > to
    EXPECT_TRUE(search("flight", f).empty());
    SearchFilter g = in_cube("c");
    g.role = "system";
    EXPECT_TRUE(search("flight", g).empty());
    // Cube "c" holds every document (its searches run without the cube filter); another cube still finds nothing.
    EXPECT_TRUE(search("flight", in_cube("other")).empty());
}

TEST_P(LexicalIndexTest, NegativeAndLargeTimes) {
    put(turn("c", "old", -86400000LL * 365 * 100), "ancient history");
    put(turn("c", "new", 4102444800000LL), "future history");
    SearchFilter f = in_cube("c");
    f.time_to = 0;
    EXPECT_EQ(search_ids("history", f), std::vector<std::string>{"old"});
    f.time_to.reset();
    f.time_from = 0;
    EXPECT_EQ(search_ids("history", f), std::vector<std::string>{"new"});
}

TEST_P(LexicalIndexTest, UpsertReplacesAndRemoveDeletes) {
    put(turn("c", "t1"), "original text about violins");
    put(turn("c", "t1", 0, "assistant"), "replacement text about cellos");
    put(turn("c", "t1", 0, "assistant"), "replacement text about cellos");
    EXPECT_TRUE(search("violins", in_cube("c")).empty());
    EXPECT_EQ(search_ids("cello", in_cube("c")), std::vector<std::string>{"t1"});
    SearchFilter f = in_cube("c");
    f.role = "user";
    EXPECT_TRUE(search("cello", f).empty());
    EXPECT_EQ(index_->count("c", UnitType::kTurn).value(), 1u);

    put(turn("c", "t2"), "another cello");
    ASSERT_TRUE(index_->remove("c", UnitType::kTurn, "t1").is_ok());
    ASSERT_TRUE(index_->remove("c", UnitType::kTurn, "missing").is_ok());
    EXPECT_EQ(search_ids("cello", in_cube("c")), std::vector<std::string>{"t2"});
    EXPECT_EQ(index_->ids("c", UnitType::kTurn).value(), std::vector<std::string>{"t2"});
    // Replacing a committed document.
    ASSERT_TRUE(index_->commit().is_ok());
    put(turn("c", "t2"), "now about harps");
    EXPECT_TRUE(search("cello", in_cube("c")).empty());
    EXPECT_EQ(search_ids("harp", in_cube("c")), std::vector<std::string>{"t2"});
    EXPECT_EQ(index_->count("c", UnitType::kTurn).value(), 1u);
}

TEST_P(LexicalIndexTest, UpsertOfAKnownNewUnitIsSearchable) {
    ASSERT_TRUE(index_->upsert(turn("c", "fresh"), "a brand new harp", /*known_new=*/true).is_ok());
    EXPECT_EQ(search_ids("harp", in_cube("c")), std::vector<std::string>{"fresh"});
    EXPECT_EQ(index_->count("c", UnitType::kTurn).value(), 1u);
}

TEST_P(LexicalIndexTest, RemoveCube) {
    for (int i = 0; i < 30; ++i) {
        put(turn("gone", "t" + std::to_string(i)), "penguin facts");
        put(turn("kept", "t" + std::to_string(i)), "penguin facts");
    }
    put(UnitAttrs{"gone", UnitType::kNote, "n1", 0, "", ""}, "penguin note");
    ASSERT_TRUE(index_->remove_cube("gone").is_ok());
    ASSERT_TRUE(index_->remove_cube("nobody").is_ok());
    EXPECT_TRUE(search("penguin", in_cube("gone")).empty());
    EXPECT_TRUE(search("penguin", in_cube("gone", UnitType::kNote)).empty());
    EXPECT_EQ(index_->count("gone", UnitType::kTurn).value(), 0u);
    EXPECT_EQ(index_->count("gone", UnitType::kNote).value(), 0u);
    EXPECT_EQ(index_->count("kept", UnitType::kTurn).value(), 30u);
    EXPECT_EQ(search("penguin", in_cube("kept"), 100).size(), 30u);
}

TEST_P(LexicalIndexTest, CountAndIds) {
    for (const char* id : {"t3", "t1", "t2"}) put(turn("c", id), "text");
    put(turn("c", "t4"), "");  // a unit with no words is still a document
    put(UnitAttrs{"c", UnitType::kNote, "n1", 0, "", ""}, "text");
    EXPECT_EQ(index_->count("c", UnitType::kTurn).value(), 4u);
    EXPECT_EQ(index_->ids("c", UnitType::kTurn).value(), (std::vector<std::string>{"t1", "t2", "t3", "t4"}));
    EXPECT_EQ(index_->ids("c", UnitType::kNote).value(), std::vector<std::string>{"n1"});
    EXPECT_EQ(index_->count("other", UnitType::kTurn).value(), 0u);
    EXPECT_TRUE(index_->ids("other", UnitType::kTurn).value().empty());
}

TEST_P(LexicalIndexTest, LongAttributesAreHashedNotRejected) {
    const std::string cube(300, 'c');
    const std::string id = std::string(400, 'i') + "x";
    const std::string role(250, 'r');
    const std::string session(1000, 's');
    put(UnitAttrs{cube, UnitType::kTurn, id, 5, role, session}, "long attribute values");
    put(UnitAttrs{std::string(300, 'c') + "d", UnitType::kTurn, "other", 5, role, session}, "long attribute values");
    SearchFilter f = in_cube(cube);
    f.role = role;
    f.session_id = session;
    EXPECT_EQ(search_ids("attribute", f), std::vector<std::string>{id});
    EXPECT_EQ(index_->ids(cube, UnitType::kTurn).value(), std::vector<std::string>{id});
    ASSERT_TRUE(index_->remove(cube, UnitType::kTurn, id).is_ok());
    EXPECT_TRUE(search("attribute", f).empty());
    EXPECT_EQ(index_->count(std::string(300, 'c') + "d", UnitType::kTurn).value(), 1u);
}

TEST_P(LexicalIndexTest, HostileQueriesNeverThrow) {
    put(turn("c", "t1"),
        "the unbalanced budget and the table drop; quotes \"everywhere\" (really) x-ray café 東京タワー");
    const std::vector<std::string> hostile = {
        "\"unbalanced",
        "unbalanced\"",
        "\"\"",
        "((((budget",
        "budget))))",
        "AND OR NOT",
        "AND",
        "NOT budget",
        "budget NOT",
        "budget AND",
        "OR OR OR budget",
        "-budget",
        "+budget -",
        "- - -",
        "'); DROP TABLE x;--",
        "budget* *",
        "title:budget",
        "budget NEAR table",
        "budget ADJ/3 table",
        "\"the table\" AND (budget OR \"x-ray\")",
        "café",
        "東京",
        "\xff\xfe\xfd budget \xc3",
        std::string("budget\0table", 12),
        "~budget ^table $ % & | \\ < > = { } [ ]",
        "a..b budget..table 1..9",
    };
    for (const auto& q : hostile) {
        auto r = index_->search(q, in_cube("c"), 10);
        EXPECT_TRUE(r.is_ok()) << "query: " << q << " -> " << r.status().to_string();
    }
    // Words inside hostile syntax are still found.
    EXPECT_EQ(search_ids("\"unbalanced", in_cube("c")), std::vector<std::string>{"t1"});
    EXPECT_EQ(search_ids("'); DROP TABLE x;--", in_cube("c")), std::vector<std::string>{"t1"});
    EXPECT_EQ(search_ids("((((budget", in_cube("c")), std::vector<std::string>{"t1"});
    EXPECT_EQ(search_ids("café", in_cube("c")), std::vector<std::string>{"t1"});
    EXPECT_EQ(search_ids("\xff\xfe\xfd budget \xc3", in_cube("c")), std::vector<std::string>{"t1"});

    std::string huge;
    while (huge.size() < 100 * 1024) huge += "budget (\"quote NOT AND random words here\" -x ";
    auto r = index_->search(huge, in_cube("c"), 10);
    ASSERT_TRUE(r.is_ok()) << r.status().to_string();
    EXPECT_EQ(ids_of(r.value()), std::vector<std::string>{"t1"});
    std::string huge_word(100 * 1024, 'z');
    EXPECT_TRUE(index_->search(huge_word, in_cube("c"), 10).is_ok());

    // Hostile text is also fine to index.
    put(turn("c", "t2"), huge);
    put(turn("c", "t3"), std::string("\xff\xfe\0\x01 AND NOT \"", 10));
    EXPECT_EQ(index_->count("c", UnitType::kTurn).value(), 3u);
}

TEST_P(LexicalIndexTest, RejectsMissingIdentity) {
    EXPECT_EQ(index_->upsert(turn("", "t1"), "text").code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(index_->upsert(turn("c", ""), "text").code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(index_->search("text", in_cube(""), 10).status().code(), StatusCode::kInvalidArgument);
    put(turn("c", "t1"), "text");
    EXPECT_TRUE(search("text", in_cube("c"), 0).empty());
    EXPECT_TRUE(search("text", in_cube("c"), -1).empty());
}

TEST_P(LexicalIndexTest, MetadataRoundTrip) {
    EXPECT_EQ(index_->metadata("embedder").value(), "");
    ASSERT_TRUE(index_->set_metadata("embedder", "glove-100d").is_ok());
    ASSERT_TRUE(index_->set_metadata("schema", std::string("v\0 2", 4)).is_ok());
    EXPECT_EQ(index_->metadata("embedder").value(), "glove-100d");
    EXPECT_EQ(index_->metadata("schema").value(), std::string("v\0 2", 4));
    ASSERT_TRUE(index_->commit().is_ok());
    EXPECT_EQ(index_->metadata("embedder").value(), "glove-100d");
    EXPECT_EQ(index_->set_metadata("", "x").code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(index_->set_metadata(std::string(201, 'k'), "x").code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(index_->metadata("").status().code(), StatusCode::kInvalidArgument);
}

TEST_P(LexicalIndexTest, PendingChangesCountsWrites) {
    EXPECT_EQ(index_->pending_changes(), 0u);
    put(turn("c", "t1"), "one");
    put(turn("c", "t2"), "two");
    ASSERT_TRUE(index_->remove("c", UnitType::kTurn, "t1").is_ok());
    ASSERT_TRUE(index_->set_metadata("k", "v").is_ok());
    EXPECT_EQ(index_->pending_changes(), 4u);
    ASSERT_TRUE(index_->commit().is_ok());
    EXPECT_EQ(index_->pending_changes(), 0u);
}

TEST_P(LexicalIndexTest, ConcurrentWritersAndReaders) {
    std::atomic<int> failures{0};
    std::vector<std::thread> threads;
    for (int w = 0; w < 2; ++w) {
        threads.emplace_back([&, w] {
            for (int i = 0; i < 300; ++i) {
                std::string id = "w" + std::to_string(w) + "_" + std::to_string(i);
                if (!index_->upsert(turn("c", id, i), "concurrent note number " + std::to_string(i)).is_ok()) {
                    failures.fetch_add(1);
                }
                if (i % 100 == 99 && !index_->commit().is_ok()) failures.fetch_add(1);
            }
        });
    }
    for (int r = 0; r < 2; ++r) {
        threads.emplace_back([&] {
            for (int i = 0; i < 100; ++i) {
                auto hits = index_->search("concurrent note", in_cube("c"), 10);
                if (!hits.is_ok() || hits->size() > 10u) failures.fetch_add(1);
                if (!index_->count("c", UnitType::kTurn).is_ok()) failures.fetch_add(1);
            }
        });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(failures.load(), 0);
    EXPECT_EQ(index_->count("c", UnitType::kTurn).value(), 600u);
    EXPECT_EQ(search("concurrent", in_cube("c"), 1000).size(), 600u);
}

// BM25's b normalises by document length: with b = 0 a long document holding the query term as often as a short one
// scores the same; with b = 1 the short one wins clearly. Xapian's defaults hold until set; bad values are refused.
TEST_P(LexicalIndexTest, Bm25ParametersChangeTheWeights) {
    put(turn("c", "short"), "lighthouse keeper");
    put(turn("c", "long"), "lighthouse keeper walked along the harbour wall past the fishing boats at dawn today");
    put(turn("c", "other"), "a quiet afternoon in the garden");
    EXPECT_DOUBLE_EQ(index_->bm25().k1, 1.0);
    EXPECT_DOUBLE_EQ(index_->bm25().b, 0.5);
    auto score_of = [&](const std::string& id) {
        for (const auto& h : search("lighthouse", in_cube("c"))) {
            if (h.id == id) return h.score;
        }
        return -1.0;
    };
    ASSERT_TRUE(index_->set_bm25({1.0, 0.0}).is_ok());
    EXPECT_DOUBLE_EQ(score_of("short"), score_of("long"));
    ASSERT_TRUE(index_->set_bm25({1.0, 1.0}).is_ok());
    EXPECT_GT(score_of("short"), 1.2 * score_of("long"));
    ASSERT_TRUE(index_->set_bm25({2.0, 0.75}).is_ok());
    EXPECT_DOUBLE_EQ(index_->bm25().k1, 2.0);
    EXPECT_DOUBLE_EQ(index_->bm25().b, 0.75);
    for (LexicalIndex::Bm25Params bad :
         {LexicalIndex::Bm25Params{-1, 0.5}, LexicalIndex::Bm25Params{1, 1.5}, LexicalIndex::Bm25Params{1, -0.1},
          LexicalIndex::Bm25Params{std::numeric_limits<double>::infinity(), 0.5},
          LexicalIndex::Bm25Params{1, std::numeric_limits<double>::quiet_NaN()}}) {
        EXPECT_EQ(index_->set_bm25(bad).code(), StatusCode::kInvalidArgument) << bad.k1 << " " << bad.b;
    }
    EXPECT_DOUBLE_EQ(index_->bm25().k1, 2.0) << "a refused setting leaves the last one";
}

TEST(LexicalIndexAnalyzeTest, StemsDropsStopwordsKeepsOrder) {
    EXPECT_EQ(LexicalIndex::analyze("The runners were Running quickly to the running track"),
              (std::vector<std::string>{"runner", "run", "quick", "track"}));
    EXPECT_EQ(LexicalIndex::analyze("I moved to Berlin in 2019"), (std::vector<std::string>{"move", "berlin", "2019"}));
    EXPECT_EQ(LexicalIndex::analyze("cats, Cats and CATS"), std::vector<std::string>{"cat"});
    EXPECT_TRUE(LexicalIndex::analyze("what is it that you were doing?").empty());
    EXPECT_TRUE(LexicalIndex::analyze("").empty());
    EXPECT_EQ(LexicalIndex::analyze("\xff\xfe").size(), 1u);  // invalid UTF-8 is read as Latin-1, never an error
}

// On-disk specifics.
TEST(LexicalIndexDiskTest, ReopenKeepsCommittedDocumentsAndMetadata) {
    TempDir dir;
    const std::string path = dir.path() + "/nested/lexical";
    {
        auto index = LexicalIndex::open(path);
        ASSERT_TRUE(index.is_ok()) << index.status().to_string();
        for (int i = 0; i < 50; ++i) {
            ASSERT_TRUE(
                (*index)->upsert(turn("c", "t" + std::to_string(i), i), "persistent memory of lighthouses").is_ok());
        }
        ASSERT_TRUE((*index)->set_metadata("embedder", "hash-256").is_ok());
        ASSERT_TRUE((*index)->commit().is_ok());
    }
    auto reopened = LexicalIndex::open(path);
    ASSERT_TRUE(reopened.is_ok()) << reopened.status().to_string();
    EXPECT_EQ((*reopened)->count("c", UnitType::kTurn).value(), 50u);
    EXPECT_EQ((*reopened)->metadata("embedder").value(), "hash-256");
    auto hits = (*reopened)->search("lighthouse", in_cube("c"), 5);
    ASSERT_TRUE(hits.is_ok());
    EXPECT_EQ(hits->size(), 5u);
    EXPECT_EQ((*reopened)->pending_changes(), 0u);
}

// A failed commit discards the uncommitted documents, and the documents added next take their document ids. A
// search names its hits from remembered document ids (UnitIdCache), so it must forget those of the discarded ones.
// The commit is made to fail with a real write error: the process's file size limit (EFBIG, as a full disk fails).
TEST(LexicalIndexDiskTest, AFailedCommitsDocumentIdsNameTheUnitsAddedAfterIt) {
    TempDir dir;
    auto opened = LexicalIndex::open(dir.path() + "/lexical");
    ASSERT_TRUE(opened.is_ok()) << opened.status().to_string();
    LexicalIndex& index = **opened;
    for (int i = 0; i < 20; ++i) ASSERT_TRUE(index.upsert(turn("c", "old" + std::to_string(i)), "harbour").is_ok());
    ASSERT_TRUE(index.commit().is_ok());
    for (int i = 0; i < 20; ++i) ASSERT_TRUE(index.upsert(turn("c", "lost" + std::to_string(i)), "beacon").is_ok());
    // Listed from the uncommitted state: their document ids are now remembered.
    auto before = index.search("beacon", in_cube("c"), 50);
    ASSERT_TRUE(before.is_ok());
    ASSERT_EQ(before->size(), 20u);

    struct rlimit saved {};
    ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &saved), 0);
    auto* previous = std::signal(SIGXFSZ, SIG_IGN);
    struct rlimit tiny = saved;
    tiny.rlim_cur = 1;
    ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &tiny), 0);
    const Status failed = index.commit();
    ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &saved), 0);
    std::signal(SIGXFSZ, previous);
    ASSERT_FALSE(failed.is_ok()) << "the commit was expected to fail under a 1-byte file size limit";
    ASSERT_TRUE(index.reopen().is_ok());

    EXPECT_TRUE(index.search("beacon", in_cube("c"), 50)->empty()) << "the discarded documents are gone";
    std::set<std::string> added;
    for (int i = 0; i < 20; ++i) {
        const std::string id = "new" + std::to_string(i);
        ASSERT_TRUE(index.upsert(turn("c", id), "beacon").is_ok());
        added.insert(id);
    }
    for (int round = 0; round < 2; ++round) {
        auto after = index.search("beacon", in_cube("c"), 50);
        ASSERT_TRUE(after.is_ok());
        const auto ids = ids_of(*after);
        EXPECT_EQ(std::set<std::string>(ids.begin(), ids.end()), added) << "round " << round;
        ASSERT_TRUE(index.commit().is_ok());
    }
}

TEST(LexicalIndexDiskTest, SecondWriterIsBusy) {
    TempDir dir;
    auto first = LexicalIndex::open(dir.path());
    ASSERT_TRUE(first.is_ok()) << first.status().to_string();
    auto second = LexicalIndex::open(dir.path());
    ASSERT_FALSE(second.is_ok());
    EXPECT_EQ(second.status().code(), StatusCode::kBusy);
    EXPECT_NE(second.status().message().find("locked by another kasten process"), std::string::npos);
    EXPECT_NE(second.status().message().find(dir.path()), std::string::npos);
    first.value().reset();
    EXPECT_TRUE(LexicalIndex::open(dir.path()).is_ok());
}

TEST(LexicalIndexDiskTest, CorruptDatabaseIsReported) {
    TempDir dir;
    {
        auto index = LexicalIndex::open(dir.path());
        ASSERT_TRUE(index.is_ok());
        ASSERT_TRUE((*index)->upsert(turn("c", "t1"), "some text").is_ok());
        ASSERT_TRUE((*index)->commit().is_ok());
    }
    for (const auto& entry : fs::recursive_directory_iterator(dir.path())) {  // every unit type's database
        if (entry.path().extension() != ".glass" && entry.path().filename() != "iamglass") continue;
        std::ofstream(entry.path(), std::ios::binary | std::ios::trunc) << "garbage, not a glass table";
    }
    auto index = LexicalIndex::open(dir.path());
    Status status = index.is_ok() ? Status::ok() : index.status();
    if (index.is_ok()) {  // some damage is only noticed on first read
        status = (*index)->search("text", in_cube("c"), 5).status();
    }
    EXPECT_EQ(status.code(), StatusCode::kCorruption) << status.to_string();
}

TEST(LexicalIndexDiskTest, UnusablePathIsAnError) {
    TempDir dir;
    const std::string file = dir.path() + "/plain-file";
    std::ofstream(file) << "x";
    auto index = LexicalIndex::open(file);
    EXPECT_FALSE(index.is_ok());
    EXPECT_FALSE(LexicalIndex::open("").is_ok());
}

}  // namespace
}  // namespace kasten::retrieval

namespace kasten::retrieval {
namespace {

TEST(LexicalAnalysisTest, AnalyzeAndMergeSumFrequencies) {
    auto a = LexicalIndex::analyze_text("Dogs chase dogs.");
    auto b = LexicalIndex::analyze_text("The dog sleeps.");
    ASSERT_EQ(a.terms.size(), 2u);
    auto m = LexicalIndex::merge({&a, &b});
    std::map<std::string, std::uint32_t> got(m.terms.begin(), m.terms.end());
    EXPECT_EQ(got["dog"], 3u);
    EXPECT_EQ(got["chase"], 1u);
    EXPECT_EQ(got["sleep"], 1u);
    EXPECT_EQ(got.count("the"), 0u);
    EXPECT_TRUE(std::is_sorted(m.terms.begin(), m.terms.end()));
}

TEST(LexicalAnalysisTest, UpsertAnalyzedMatchesUpsertAndAppends) {
    auto index = LexicalIndex::in_memory();
    UnitAttrs plain{"c", UnitType::kSession, "plain", 0, "", "plain"};
    UnitAttrs merged{"c", UnitType::kSession, "merged", 0, "", "merged"};
    ASSERT_TRUE(index->upsert(plain, "the cat sat on the mat\nthe dog barked at the cat").is_ok());
    auto p1 = LexicalIndex::analyze_text("the cat sat on the mat");
    auto p2 = LexicalIndex::analyze_text("the dog barked at the cat");
    ASSERT_TRUE(index->upsert_analyzed(merged, LexicalIndex::merge({&p1, &p2})).is_ok());
    SearchFilter f;
    f.cube_id = "c";
    f.type = UnitType::kSession;
    auto hits = index->search("cat dog", f, 10).value();
    ASSERT_EQ(hits.size(), 2u);
    EXPECT_DOUBLE_EQ(hits[0].score, hits[1].score);  // identical documents score identically
    // Appending to the stored document keeps its earlier terms.
    auto p3 = LexicalIndex::analyze_text("a parrot squawked");
    ASSERT_TRUE(index->upsert_analyzed(merged, p3, /*merge_existing=*/true).is_ok());
    EXPECT_EQ(index->search("parrot", f, 10).value().size(), 1u);
    EXPECT_EQ(index->search("barked", f, 10).value().size(), 2u);
    EXPECT_EQ(index->count("c", UnitType::kSession).value(), 2u);
    // Without merge_existing the document is replaced.
    ASSERT_TRUE(index->upsert_analyzed(merged, p3).is_ok());
    EXPECT_EQ(index->search("barked", f, 10).value().size(), 1u);
}

TEST(LexicalTermCountsTest, CountsPerCubeExactly) {
    auto index = LexicalIndex::in_memory();
    ASSERT_TRUE(index->upsert({"a", UnitType::kTurn, "1", 0, "user", "s"}, "my dog barks").is_ok());
    ASSERT_TRUE(index->upsert({"a", UnitType::kTurn, "2", 0, "user", "s"}, "dogs and cats").is_ok());
    ASSERT_TRUE(index->upsert({"a", UnitType::kSession, "s", 0, "", "s"}, "my dog barks").is_ok());
    // Only cube "a" so far: Xapian's own statistics are exact.
    auto one = index->term_counts("a", {"dog", "cat", "parrot", ""});
    ASSERT_TRUE(one.is_ok()) << one.status().to_string();
    EXPECT_EQ(one->documents, 3u);
    EXPECT_EQ(one->frequencies, (std::vector<std::uint64_t>{3, 1, 0, 0}));
    // A second cube: counts stay per cube.
    ASSERT_TRUE(index->upsert({"b", UnitType::kTurn, "3", 0, "user", "t"}, "a dog and a parrot").is_ok());
    auto a = index->term_counts("a", {"dog", "parrot"});
    ASSERT_TRUE(a.is_ok());
    EXPECT_EQ(a->documents, 3u);
    EXPECT_EQ(a->frequencies, (std::vector<std::uint64_t>{3, 0}));
    auto b = index->term_counts("b", {"dog", "parrot", "cat"});
    ASSERT_TRUE(b.is_ok());
    EXPECT_EQ(b->documents, 1u);
    EXPECT_EQ(b->frequencies, (std::vector<std::uint64_t>{1, 1, 0}));
    EXPECT_EQ(index->term_counts("", {"dog"}).status().code(), StatusCode::kInvalidArgument);
}

TEST(LexicalTermCountsTest, CountsPerCubeMatchABruteForceCount) {
    // Three cubes interleaved in one database (their documents' ids alternate), words drawn from a small vocabulary
    // of unstemmed-stable words, deletions on top: every count equals one made by hand.
    const std::vector<std::string> vocabulary{"harbour", "lantern", "violin", "quartz", "meadow", "copper", "falcon"};
    auto index = LexicalIndex::in_memory();
    std::map<std::string, std::map<std::string, std::set<std::string>>> holders;  // cube -> word -> unit ids
    std::map<std::string, std::set<std::string>> units;                           // cube -> unit ids
    std::mt19937 rng(11);
    for (int i = 0; i < 600; ++i) {
        const std::string cube = "c" + std::to_string(rng() % 3);
        const std::string id = std::to_string(i);
        std::string text;
        std::set<std::string> words;
        for (const auto& w : vocabulary) {
            if (rng() % 4 == 0) {
                text += w + " ";
                words.insert(w);
            }
        }
        ASSERT_TRUE(index->upsert({cube, UnitType::kTurn, id, 0, "user", "s"}, text + "filler").is_ok());
        units[cube].insert(id);
        for (const auto& w : words) holders[cube][w].insert(id);
    }
    for (int i = 0; i < 600; i += 7) {  // delete every seventh unit
        for (auto& [cube, ids] : units) {
            if (!ids.erase(std::to_string(i))) continue;
            ASSERT_TRUE(index->remove(cube, UnitType::kTurn, std::to_string(i)).is_ok());
            for (auto& [w, holding] : holders[cube]) holding.erase(std::to_string(i));
        }
    }
    for (const auto& [cube, ids] : units) {
        auto counts = index->term_counts(cube, UnitType::kTurn, vocabulary, LexicalIndex::ReadFrom::kLatest);
        ASSERT_TRUE(counts.is_ok()) << counts.status().to_string();
        EXPECT_EQ(counts->documents, ids.size());
        for (std::size_t w = 0; w < vocabulary.size(); ++w) {
            EXPECT_EQ(counts->frequencies[w], holders[cube][vocabulary[w]].size()) << cube << " " << vocabulary[w];
        }
    }
}

// Counts are remembered per cube and kept through upserts: every change of a cube (a new unit, a replaced one, words
// merged into one, remove, remove_session, remove_cube, a dropped uncommitted state) must show in the next count, and
// other cubes' changes never do. Counts are checked against a count by hand after every operation, through the
// latest and the committed state.
void remembered_counts_follow_every_change(LexicalIndex& index, bool on_disk) {
    const std::vector<std::string> vocabulary{"harbour", "lantern", "violin", "quartz", "meadow"};
    // cube -> unit id -> (session, words)
    std::map<std::string, std::map<std::string, std::pair<std::string, std::set<std::string>>>> units;
    std::mt19937 rng(5);
    auto check = [&](const std::string& step) {
        for (const std::string cube : {"c0", "c1"}) {
            for (auto from : {LexicalIndex::ReadFrom::kCommittedIfClean, LexicalIndex::ReadFrom::kLatest}) {
                auto counts = index.term_counts(cube, UnitType::kTurn, vocabulary, from);
                ASSERT_TRUE(counts.is_ok()) << counts.status().to_string();
                EXPECT_EQ(counts->documents, units[cube].size()) << step << " " << cube;
                for (std::size_t w = 0; w < vocabulary.size(); ++w) {
                    std::size_t holders = 0;
                    for (const auto& [id, unit] : units[cube]) holders += unit.second.count(vocabulary[w]);
                    EXPECT_EQ(counts->frequencies[w], holders) << step << " " << cube << " " << vocabulary[w];
                }
            }
        }
    };
    // "filler" and each word of the vocabulary with probability 1/3 (recorded in `words`).
    auto random_text = [&](std::set<std::string>& words) {
        std::string text = "filler";
        for (const auto& w : vocabulary) {
            if (rng() % 3 == 0) {
                words.insert(w);
                text += " " + w;
            }
        }
        return text;
    };
    for (int i = 0; i < 300; ++i) {
        const std::string cube = "c" + std::to_string(rng() % 2);
        const int op = static_cast<int>(rng() % 13);
        if (op >= 10 && !units[cube].empty()) {
            // An existing unit: replaced (op 10), or words merged into it as a session's document grows (11, 12).
            auto unit = std::next(units[cube].begin(), static_cast<long>(rng() % units[cube].size()));
            std::set<std::string> words;
            const std::string text = random_text(words);
            const UnitAttrs attrs{cube, UnitType::kTurn, unit->first, 0, "user", unit->second.first};
            if (op == 10) {
                ASSERT_TRUE(index.upsert(attrs, text).is_ok());
                unit->second.second = words;
            } else {
                ASSERT_TRUE(index.upsert_analyzed(attrs, LexicalIndex::analyze_text(text), true).is_ok());
                unit->second.second.insert(words.begin(), words.end());
            }
        } else if (op < 6 || units[cube].empty()) {
            const std::string id = std::to_string(i);
            const std::string session = "s" + std::to_string(rng() % 4);
            std::set<std::string> words;
            const std::string text = random_text(words);
            ASSERT_TRUE(index.upsert({cube, UnitType::kTurn, id, 0, "user", session}, text).is_ok());
            units[cube][id] = {session, words};
        } else if (op < 8) {
            auto victim = std::next(units[cube].begin(), static_cast<long>(rng() % units[cube].size()));
            ASSERT_TRUE(index.remove(cube, UnitType::kTurn, victim->first).is_ok());
            units[cube].erase(victim);
        } else if (op == 8) {
            const std::string session = "s" + std::to_string(rng() % 4);
            ASSERT_TRUE(index.remove_session(cube, session).is_ok());
            std::erase_if(units[cube], [&](const auto& u) { return u.second.first == session; });
        } else {
            ASSERT_TRUE(index.commit().is_ok());
        }
        if (i % 97 == 96) {
            ASSERT_TRUE(index.remove_cube(cube).is_ok());
            units[cube].clear();
        }
        check("step " + std::to_string(i));
    }
    // A reopen may drop what was not committed (or commit it on close); the counts follow what the index holds.
    ASSERT_TRUE(index.commit().is_ok());
    check("committed");
    if (!on_disk) return;
    ASSERT_TRUE(index.upsert({"c0", UnitType::kTurn, "maybe", 0, "user", "s0"}, "harbour").is_ok());
    units["c0"]["maybe"] = {"s0", {"harbour"}};
    check("uncommitted");
    ASSERT_TRUE(index.reopen().is_ok());
    const auto kept = index.ids("c0", UnitType::kTurn);
    ASSERT_TRUE(kept.is_ok());
    if (std::find(kept->begin(), kept->end(), "maybe") == kept->end()) units["c0"].erase("maybe");
    check("reopened");
}

TEST(LexicalTermCountsTest, RememberedCountsFollowEveryChange) {
    TempDir dir;
    auto opened = LexicalIndex::open(dir.path() + "/lexical");
    ASSERT_TRUE(opened.is_ok()) << opened.status().to_string();
    remembered_counts_follow_every_change(**opened, /*on_disk=*/true);
}

TEST(LexicalTermCountsTest, RememberedCountsFollowEveryChangeInMemory) {
    remembered_counts_follow_every_change(*LexicalIndex::in_memory(), /*on_disk=*/false);
}

// Counts of a cube read while it is written and committed from another thread never stay stale: once the writes
// stop, every count equals the truth.
TEST(LexicalTermCountsTest, ConcurrentReadsDuringWritesAreNeverLeftStale) {
    TempDir dir;
    auto opened = LexicalIndex::open(dir.path() + "/lexical");
    ASSERT_TRUE(opened.is_ok()) << opened.status().to_string();
    LexicalIndex& index = **opened;
    const std::vector<std::string> terms = LexicalIndex::analyze("harbour lantern");
    constexpr int kWrites = 400;
    std::atomic<bool> done{false};
    std::vector<std::thread> readers;
    for (int r = 0; r < 2; ++r) {
        readers.emplace_back([&] {
            while (!done.load()) {
                for (auto from : {LexicalIndex::ReadFrom::kCommittedIfClean, LexicalIndex::ReadFrom::kLatest}) {
                    EXPECT_TRUE(index.term_counts("c", UnitType::kTurn, terms, from).is_ok());
                }
            }
        });
    }
    for (int i = 0; i < kWrites; ++i) {
        ASSERT_TRUE(index
                        .upsert({"c", UnitType::kTurn, std::to_string(i), 0, "user", "s"},
                                i % 2 == 0 ? "harbour" : "harbour lantern")
                        .is_ok());
        if (i % 25 == 24) ASSERT_TRUE(index.commit().is_ok());
    }
    ASSERT_TRUE(index.commit().is_ok());
    done = true;
    for (auto& t : readers) t.join();
    for (auto from : {LexicalIndex::ReadFrom::kCommittedIfClean, LexicalIndex::ReadFrom::kLatest}) {
        auto counts = index.term_counts("c", UnitType::kTurn, terms, from);
        ASSERT_TRUE(counts.is_ok());
        EXPECT_EQ(counts->documents, static_cast<std::uint64_t>(kWrites));
        EXPECT_EQ(counts->frequencies, (std::vector<std::uint64_t>{kWrites, kWrites / 2}));
    }
}

// Every search of cube "c" over turns and sessions, as (id, score) lists.
std::vector<std::vector<ScoredId>> turn_and_session_results(const LexicalIndex& index) {
    std::vector<std::vector<ScoredId>> out;
    for (const char* q : {"harbour sailing", "Maya painting", "bread market Sunday", "kayaking museum Jonas"}) {
        for (UnitType type : {UnitType::kTurn, UnitType::kSession}) {
            auto hits = index.search(q, in_cube("c", type), 20);
            EXPECT_TRUE(hits.is_ok()) << hits.status().to_string();
            out.push_back(hits.is_ok() ? *hits : std::vector<ScoredId>{});
        }
    }
    return out;
}

void expect_bit_identical(const std::vector<std::vector<ScoredId>>& a, const std::vector<std::vector<ScoredId>>& b) {
    ASSERT_EQ(a.size(), b.size());
    for (std::size_t i = 0; i < a.size(); ++i) {
        ASSERT_EQ(a[i].size(), b[i].size()) << "search " << i;
        for (std::size_t j = 0; j < a[i].size(); ++j) {
            EXPECT_EQ(a[i][j].id, b[i][j].id) << "search " << i << " hit " << j;
            EXPECT_EQ(a[i][j].score, b[i][j].score) << "search " << i << " hit " << j;  // exact, not near
        }
    }
}

// Turns and sessions of cube "c" whose words overlap (so BM25 statistics decide the order).
void put_turns_and_sessions(LexicalIndex& index) {
    const std::vector<std::string> texts = {
        "I went sailing with Maya near the harbour on Sunday",     "Maya loved painting at the museum",
        "We bought bread at the market on Sunday morning",         "Jonas went kayaking past the harbour",
        "The museum had a painting of the market and the harbour", "Sailing lessons with Jonas start on Monday",
    };
    std::string session_text;
    for (std::size_t i = 0; i < texts.size(); ++i) {
        const std::string session = "s" + std::to_string(i / 2);
        ASSERT_TRUE(index.upsert(turn("c", "t" + std::to_string(i), 0, "user", session), texts[i]).is_ok());
        session_text += texts[i] + " ";
        if (i % 2 == 1) {
            ASSERT_TRUE(index.upsert({"c", UnitType::kSession, session, 0, "", session}, session_text).is_ok());
            session_text.clear();
        }
    }
}

TEST_P(LexicalIndexTest, NotesLeaveTurnAndSessionScoresBitIdentical) {
    put_turns_and_sessions(*index_);
    const auto before = turn_and_session_results(*index_);
    ASSERT_FALSE(before.front().empty());
    // Notes that repeat the turns' words many times over: shared statistics would change every idf and the average
    // document length.
    for (int i = 0; i < 40; ++i) {
        put({"c", UnitType::kNote, "n" + std::to_string(i), 0, "", ""},
            "Maya harbour sailing sailing market bread " + std::string(i % 2 ? "painting museum" : "Sunday kayaking"));
    }
    ASSERT_EQ(search_ids("harbour sailing", in_cube("c", UnitType::kNote), 50).size(), 40u);
    expect_bit_identical(before, turn_and_session_results(*index_));
    // Removing them again, and another cube's notes, change nothing either.
    ASSERT_TRUE(index_->remove_cube("other").is_ok());
    for (int i = 0; i < 40; i += 2) ASSERT_TRUE(index_->remove("c", UnitType::kNote, "n" + std::to_string(i)).is_ok());
    expect_bit_identical(before, turn_and_session_results(*index_));
}

TEST_P(LexicalIndexTest, SessionsLeaveTurnScoresBitIdentical) {
    put(turn("c", "t1"), "sailing near the harbour");
    put(turn("c", "t2"), "harbour market bread");
    put(turn("c", "t3"), "bread and sailing and bread");
    auto before = search("harbour bread sailing", in_cube("c"));
    put({"c", UnitType::kSession, "s1", 0, "", "s1"}, "harbour harbour harbour harbour market");
    auto after = search("harbour bread sailing", in_cube("c"));
    expect_bit_identical({before}, {after});
}

// Note searches rank by the statistics of the whole cube: a word its turns use often weighs less in a note search.
TEST_P(LexicalIndexTest, NoteSearchesRankByTheWholeCubesStatistics) {
    put({"c", UnitType::kNote, "n1", 0, "", ""}, "harbour");
    put({"c", UnitType::kNote, "n2", 0, "", ""}, "museum");
    put({"c", UnitType::kNote, "n3", 0, "", ""}, "harbour museum garden");
    put({"c", UnitType::kNote, "n4", 0, "", ""}, "garden");
    // Within the notes "harbour" and "museum" are equally common: n1 and n2 tie.
    auto notes_only = search("harbour museum", in_cube("c", UnitType::kNote));
    ASSERT_EQ(ids_of(notes_only).size(), 3u);
    EXPECT_EQ(notes_only[1].score, notes_only[2].score);
    // Turns that talk about the harbour all the time make "museum" the rarer, weightier word of the conversation.
    for (int i = 0; i < 5; ++i) put(turn("c", "t" + std::to_string(i)), "the harbour again");
    auto with_turns = search("harbour museum", in_cube("c", UnitType::kNote));
    ASSERT_EQ(ids_of(with_turns).size(), 3u);
    std::map<std::string, double> score;
    for (const auto& h : with_turns) score[h.id] = h.score;
    EXPECT_GT(score["n2"], score["n1"]);
    EXPECT_EQ(ids_of(with_turns).back(), "n1");
}

TEST(LexicalTermCountsTest, CountsPerUnitType) {
    auto index = LexicalIndex::in_memory();
    ASSERT_TRUE(index->upsert({"a", UnitType::kTurn, "1", 0, "user", "s"}, "my dog barks").is_ok());
    ASSERT_TRUE(index->upsert({"a", UnitType::kTurn, "2", 0, "user", "s"}, "dogs and cats").is_ok());
    ASSERT_TRUE(index->upsert({"a", UnitType::kSession, "s", 0, "", "s"}, "my dog barks").is_ok());
    ASSERT_TRUE(index->upsert({"a", UnitType::kNote, "n", 0, "", ""}, "a parrot").is_ok());
    ASSERT_TRUE(index->upsert({"b", UnitType::kNote, "m", 0, "", ""}, "a dog").is_ok());
    auto turns = index->term_counts("a", UnitType::kTurn, {"dog", "cat", "parrot"});
    ASSERT_TRUE(turns.is_ok()) << turns.status().to_string();
    EXPECT_EQ(turns->documents, 2u);
    EXPECT_EQ(turns->frequencies, (std::vector<std::uint64_t>{2, 1, 0}));
    auto sessions = index->term_counts("a", UnitType::kSession, {"dog", "parrot"});
    ASSERT_TRUE(sessions.is_ok());
    EXPECT_EQ(sessions->documents, 1u);
    EXPECT_EQ(sessions->frequencies, (std::vector<std::uint64_t>{1, 0}));
    // Notes rank by the whole cube's statistics.
    auto notes = index->term_counts("a", UnitType::kNote, {"dog", "parrot"});
    ASSERT_TRUE(notes.is_ok());
    EXPECT_EQ(notes->documents, 4u);
    EXPECT_EQ(notes->frequencies, (std::vector<std::uint64_t>{3, 1}));
    auto all = index->term_counts("a", {"dog", "cat", "parrot"});  // every type of the cube
    ASSERT_TRUE(all.is_ok());
    EXPECT_EQ(all->documents, 4u);
    EXPECT_EQ(all->frequencies, (std::vector<std::uint64_t>{3, 1, 1}));
    EXPECT_EQ(index->total_documents().value(), 5u);
}

// The units of the version-1 fixture: turns, a session and notes of cube "c", a turn of cube "d".
std::vector<std::pair<UnitAttrs, std::string>> version1_units() {
    return {
        {turn("c", "t1", 1000, "user", "s1"), "I went sailing with Maya near the harbour"},
        {turn("c", "t2", 2000, "assistant", "s1"), "Sailing near a harbour sounds lovely"},
        {turn("c", "t3", 3000, "user", "s2"), "We bought bread at the market"},
        {{"c", UnitType::kSession, "s1", 1000, "", "s1"}, "I went sailing with Maya near the harbour"},
        {{"c", UnitType::kNote, "n1", 1000, "", ""}, "The user sails with Maya at the harbour"},
        {{"c", UnitType::kNote, "n2", 3000, "", ""}, "The user buys bread at the market"},
        {turn("d", "t9", 500, "user", "s9"), "harbour bread"},
    };
}

TEST(LexicalIndexMigrationTest, Version1IndexIsSplitPerUnitTypeOnOpen) {
    TempDir dir;
    const std::string path = dir.path() + "/lexical";
    testing::write_version1_index(path, version1_units(), {{"kasten.event_seq", "42"}, {"other", "x"}});
    ASSERT_TRUE(fs::exists(path + "/iamglass"));

    auto opened = LexicalIndex::open(path);
    ASSERT_TRUE(opened.is_ok()) << opened.status().to_string();
    LexicalIndex& index = **opened;
    // The old database is gone; one database per type holds its documents and the metadata.
    EXPECT_FALSE(fs::exists(path + "/iamglass"));
    for (const auto& entry : fs::directory_iterator(path)) EXPECT_TRUE(entry.is_directory()) << entry.path();
    EXPECT_EQ(index.total_documents().value(), 7u);
    EXPECT_EQ(index.ids("c", UnitType::kTurn).value(), (std::vector<std::string>{"t1", "t2", "t3"}));
    EXPECT_EQ(index.ids("c", UnitType::kSession).value(), (std::vector<std::string>{"s1"}));
    EXPECT_EQ(index.ids("c", UnitType::kNote).value(), (std::vector<std::string>{"n1", "n2"}));
    EXPECT_EQ(index.ids("d", UnitType::kTurn).value(), (std::vector<std::string>{"t9"}));
    EXPECT_EQ(index.metadata("kasten.event_seq").value(), "42");
    EXPECT_EQ(index.metadata("other").value(), "x");

    // Every search scores exactly as on an index built with this layout from the same units, filters included.
    TempDir fresh_dir;
    auto fresh = LexicalIndex::open(fresh_dir.path());
    ASSERT_TRUE(fresh.is_ok());
    for (const auto& [attrs, text] : version1_units()) ASSERT_TRUE((*fresh)->upsert(attrs, text).is_ok());
    std::vector<SearchFilter> filters;
    for (UnitType type : {UnitType::kTurn, UnitType::kSession, UnitType::kNote}) filters.push_back(in_cube("c", type));
    filters.push_back(in_cube("c"));
    filters.back().role = "user";
    filters.back().time_from = 1500;
    filters.push_back(in_cube("d"));
    for (const auto& f : filters) {
        auto migrated = index.search("harbour sailing bread Maya", f, 10);
        auto built = (*fresh)->search("harbour sailing bread Maya", f, 10);
        ASSERT_TRUE(migrated.is_ok() && built.is_ok());
        expect_bit_identical({*migrated}, {*built});
    }
    EXPECT_EQ(ids_of(index.search("bread", in_cube("c"), 10).value()), (std::vector<std::string>{"t3"}));
    // The unique terms carried over: a replace and a remove find the migrated documents.
    ASSERT_TRUE(index.upsert(turn("c", "t3", 3000, "user", "s2"), "We bought cheese").is_ok());
    ASSERT_TRUE(index.remove("c", UnitType::kNote, "n1").is_ok());
    ASSERT_TRUE(index.remove_session("c", "s1").is_ok());
    EXPECT_EQ(index.ids("c", UnitType::kTurn).value(), (std::vector<std::string>{"t3"}));
    EXPECT_EQ(index.ids("c", UnitType::kSession).value(), std::vector<std::string>{});
    EXPECT_EQ(index.ids("c", UnitType::kNote).value(), (std::vector<std::string>{"n2"}));
    EXPECT_TRUE(index.search("bread", in_cube("c"), 10).value().empty());
    ASSERT_TRUE(index.commit().is_ok());
    opened = Status::ok();  // closes it

    // Opening again migrates nothing and keeps the changes.
    auto again = LexicalIndex::open(path);
    ASSERT_TRUE(again.is_ok()) << again.status().to_string();
    EXPECT_EQ((*again)->total_documents().value(), 3u);  // t3, n2 and cube d's t9
    EXPECT_EQ((*again)->metadata("kasten.event_seq").value(), "42");
}

TEST(LexicalIndexMigrationTest, InterruptedMigrationStartsOver) {
    TempDir dir;
    const std::string path = dir.path() + "/lexical";
    testing::write_version1_index(path, version1_units(), {{"kasten.event_seq", "7"}});
    // What a migration killed before it deleted the old database leaves: a partial per-type database.
    {
        auto partial = LexicalIndex::open(dir.path() + "/partial");
        ASSERT_TRUE(partial.is_ok());
        ASSERT_TRUE((*partial)->upsert(turn("c", "stale"), "stale half-copied turn").is_ok());
        ASSERT_TRUE((*partial)->commit().is_ok());
    }
    fs::copy(dir.path() + "/partial/turn", path + "/turn", fs::copy_options::recursive);
    auto opened = LexicalIndex::open(path);
    ASSERT_TRUE(opened.is_ok()) << opened.status().to_string();
    EXPECT_EQ((*opened)->ids("c", UnitType::kTurn).value(), (std::vector<std::string>{"t1", "t2", "t3"}));
    EXPECT_EQ((*opened)->total_documents().value(), 7u);
    EXPECT_EQ((*opened)->metadata("kasten.event_seq").value(), "7");
}

// A crash between the commits of the type databases: the turn and session databases committed a newer value, the
// note database (committed last) still holds the older one, which is the one every database's changes reached.
TEST(LexicalIndexDiskTest, MetadataIsReadFromTheDatabaseCommittedLast) {
    TempDir dir;
    {
        auto index = LexicalIndex::open(dir.path());
        ASSERT_TRUE(index.is_ok());
        ASSERT_TRUE((*index)->set_metadata("kasten.event_seq", "5").is_ok());
        ASSERT_TRUE((*index)->commit().is_ok());
    }
    {
        auto other = LexicalIndex::open(dir.path() + "/other");
        ASSERT_TRUE(other.is_ok());
        ASSERT_TRUE((*other)->set_metadata("kasten.event_seq", "3").is_ok());
        ASSERT_TRUE((*other)->commit().is_ok());
    }
    fs::remove_all(dir.path() + "/note");
    fs::copy(dir.path() + "/other/note", dir.path() + "/note", fs::copy_options::recursive);
    fs::remove_all(dir.path() + "/other");
    auto index = LexicalIndex::open(dir.path());
    ASSERT_TRUE(index.is_ok()) << index.status().to_string();
    EXPECT_EQ((*index)->metadata("kasten.event_seq").value(), "3");
    // Uncommitted values are read back at once and dropped by reopen().
    ASSERT_TRUE((*index)->set_metadata("kasten.event_seq", "9").is_ok());
    EXPECT_EQ((*index)->metadata("kasten.event_seq").value(), "9");
    ASSERT_TRUE((*index)->reopen().is_ok());
    EXPECT_EQ((*index)->metadata("kasten.event_seq").value(), "3");
    ASSERT_TRUE((*index)->set_metadata("kasten.event_seq", "10").is_ok());
    ASSERT_TRUE((*index)->commit().is_ok());
    ASSERT_TRUE((*index)->reopen().is_ok());
    EXPECT_EQ((*index)->metadata("kasten.event_seq").value(), "10");
}

}  // namespace
}  // namespace kasten::retrieval

namespace kasten::retrieval {
namespace {

std::vector<std::string> ids_of(const Result<std::vector<ScoredId>>& hits) {
    std::vector<std::string> out;
    if (hits.is_ok()) {
        for (const auto& h : *hits) out.push_back(h.id);
    }
    std::sort(out.begin(), out.end());
    return out;
}

// kCommittedIfClean reads the committed state only for a cube with nothing uncommitted: a cube's own uncommitted
// additions and removals are always seen.
TEST(LexicalIndexCommittedReadTest, CleanCubesReadTheCommitAndDirtyCubesTheLatestState) {
    constexpr auto kCommitted = LexicalIndex::ReadFrom::kCommittedIfClean;
    TempDir dir;
    auto opened = LexicalIndex::open(dir.path() + "/lexical");
    ASSERT_TRUE(opened.is_ok()) << opened.status().to_string();
    auto& index = **opened;
    ASSERT_TRUE(index.upsert(turn("a", "a1", 1), "harbour lighthouse keeper").is_ok());
    ASSERT_TRUE(index.upsert(turn("a", "a2", 2), "lighthouse lamp oil").is_ok());
    // Not committed yet: cube a is dirty, so its own documents are found through the latest state.
    EXPECT_EQ(ids_of(index.search("lighthouse", in_cube("a"), 10, kCommitted)), (std::vector<std::string>{"a1", "a2"}));
    EXPECT_EQ(index.committed_reads(), 0u);
    ASSERT_TRUE(index.commit().is_ok());
    ASSERT_TRUE(index.upsert(turn("b", "b1", 3), "lighthouse on another cube").is_ok());
    // a is clean (read from the commit), b dirty (its uncommitted document is found).
    EXPECT_EQ(ids_of(index.search("lighthouse", in_cube("a"), 10, kCommitted)), (std::vector<std::string>{"a1", "a2"}));
    EXPECT_EQ(index.committed_reads(), 1u);
    EXPECT_EQ(ids_of(index.search("lighthouse", in_cube("b"), 10, kCommitted)), (std::vector<std::string>{"b1"}));
    EXPECT_EQ(index.committed_reads(), 1u);
    auto counts = index.term_counts("a", UnitType::kTurn, LexicalIndex::analyze("lighthouse lamp"), kCommitted);
    ASSERT_TRUE(counts.is_ok());
    EXPECT_EQ(counts->documents, 2u);
    EXPECT_EQ(counts->frequencies, (std::vector<std::uint64_t>{2, 1}));
    EXPECT_EQ(index.committed_reads(), 2u);
    // The default reads the latest state.
    EXPECT_EQ(ids_of(index.search("lighthouse", in_cube("a"), 10)), (std::vector<std::string>{"a1", "a2"}));
    EXPECT_EQ(index.committed_reads(), 2u);
    // A removal makes a dirty again: the removed document is not found although the commit still holds it.
    ASSERT_TRUE(index.remove("a", UnitType::kTurn, "a1").is_ok());
    EXPECT_EQ(ids_of(index.search("lighthouse", in_cube("a"), 10, kCommitted)), (std::vector<std::string>{"a2"}));
    EXPECT_EQ(index.committed_reads(), 2u);
    ASSERT_TRUE(index.commit().is_ok());
    // The reader reopens at the new commit.
    EXPECT_EQ(ids_of(index.search("lighthouse", in_cube("a"), 10, kCommitted)), (std::vector<std::string>{"a2"}));
    EXPECT_EQ(ids_of(index.search("lighthouse", in_cube("b"), 10, kCommitted)), (std::vector<std::string>{"b1"}));
    EXPECT_EQ(index.committed_reads(), 4u);
}

// Readers of a clean cube run while another cube is written and committed over and over (the readers' revisions are
// overtaken: they reopen, or fall back to the latest state), and always find exactly the clean cube's documents.
TEST(LexicalIndexCommittedReadTest, ConcurrentCommitsNeverChangeACleanCubesResults) {
    constexpr auto kCommitted = LexicalIndex::ReadFrom::kCommittedIfClean;
    TempDir dir;
    auto opened = LexicalIndex::open(dir.path() + "/lexical");
    ASSERT_TRUE(opened.is_ok()) << opened.status().to_string();
    auto& index = **opened;
    std::vector<std::string> expected;
    for (int i = 0; i < 20; ++i) {
        expected.push_back("a" + std::to_string(i));
        ASSERT_TRUE(index.upsert(turn("a", expected.back(), i), "quiet cube about kayaks").is_ok());
    }
    std::sort(expected.begin(), expected.end());
    ASSERT_TRUE(index.commit().is_ok());
    std::atomic<bool> stop{false};
    std::atomic<int> failures{0};
    std::mutex first_failure_mu;
    std::string first_failure;  // guarded by first_failure_mu: what went wrong first, for the report
    auto fail = [&](std::string what) {
        if (failures.fetch_add(1) == 0) {
            std::lock_guard<std::mutex> g(first_failure_mu);
            first_failure = std::move(what);
        }
    };
    std::thread writer([&] {
        for (int i = 0; i < 400 && failures.load() == 0; ++i) {
            if (auto s = index.upsert(turn("b", "b" + std::to_string(i), i), "busy cube about kayaks and canoes");
                !s.is_ok()) {
                fail("upsert: " + s.to_string());
            }
            if (i % 5 == 4) {
                if (auto s = index.commit(); !s.is_ok()) fail("commit: " + s.to_string());
            }
        }
        stop.store(true);
    });
    std::vector<std::thread> readers;
    for (int r = 0; r < 3; ++r) {
        readers.emplace_back([&] {
            while (!stop.load()) {
                auto hits = index.search("kayaks", in_cube("a"), 50, kCommitted);
                if (!hits.is_ok()) {
                    fail("search: " + hits.status().to_string());
                } else if (ids_of(hits) != expected) {
                    fail("search found " + std::to_string(hits->size()) + " documents");
                }
                auto counts = index.term_counts("a", UnitType::kTurn, {"kayak"}, kCommitted);
                if (!counts.is_ok()) {
                    fail("term_counts: " + counts.status().to_string());
                } else if (counts->documents != 20u || counts->frequencies[0] != 20u) {
                    fail("term_counts: " + std::to_string(counts->documents) + " documents, " +
                         std::to_string(counts->frequencies[0]) + " with the term");
                }
            }
        });
    }
    writer.join();
    for (auto& t : readers) t.join();
    EXPECT_EQ(failures.load(), 0) << "first: " << first_failure;
    EXPECT_GT(index.committed_reads(), 0u);
}

}  // namespace
}  // namespace kasten::retrieval
