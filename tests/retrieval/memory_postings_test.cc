#include "retrieval/memory_postings.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "retrieval/lexical_index.h"
#include "tests/retrieval/search_helpers.h"

namespace kasten::retrieval {
namespace {

UnitAttrs unit(std::string cube, UnitType type, std::string id, TimeMs time = 0, std::string role = "",
               std::string session = "") {
    return UnitAttrs{std::move(cube), type, std::move(id), time, std::move(role), std::move(session)};
}

using test_support::ids_of;
using test_support::in_cube;

TEST(MemoryPostingsTest, StatisticsCountLiveDocumentsAndTheirWdf) {
    MemoryPostings p;
    EXPECT_FALSE(p.upsert(unit("c", UnitType::kTurn, "a"), {{"cat", 2}, {"dog", 1}}));
    EXPECT_FALSE(p.upsert(unit("c", UnitType::kTurn, "b"), {{"dog", 3}}));
    EXPECT_FALSE(p.upsert(unit("d", UnitType::kTurn, "a"), {{"cat", 1}}));
    EXPECT_EQ(p.documents(), 3u);
    EXPECT_EQ(p.total_length(), 7u);
    EXPECT_EQ(p.term_frequency("dog"), 2u);
    EXPECT_EQ(p.term_frequency("cat"), 2u);
    EXPECT_EQ(p.term_frequency("eel"), 0u);
    EXPECT_EQ(p.cube_documents("c"), 2u);
    EXPECT_EQ(p.cube_term_frequency("c", "cat"), 1u);
    EXPECT_EQ(p.cube_term_frequency("d", "cat"), 1u);
    EXPECT_EQ(p.cube_term_frequency("e", "cat"), 0u);
    EXPECT_EQ(p.ids("c"), (std::vector<std::string>{"a", "b"}));

    EXPECT_TRUE(p.upsert(unit("c", UnitType::kTurn, "a"), {{"eel", 1}}));  // replaced
    EXPECT_EQ(p.documents(), 3u);
    EXPECT_EQ(p.total_length(), 5u);
    EXPECT_EQ(p.term_frequency("cat"), 1u);
    EXPECT_EQ(p.terms_of("c", UnitType::kTurn, "a"), (MemoryPostings::Terms{{"eel", 1}}));
    EXPECT_TRUE(p.remove("c", UnitType::kTurn, "b"));
    EXPECT_FALSE(p.remove("c", UnitType::kTurn, "b"));
    EXPECT_EQ(p.term_frequency("dog"), 0u);
    EXPECT_EQ(p.remove_cube("d"), 1u);
    EXPECT_EQ(p.documents(), 1u);
    EXPECT_EQ(p.total_length(), 1u);
    EXPECT_TRUE(p.terms_of("d", UnitType::kTurn, "a").empty());
}

TEST(MemoryPostingsTest, AReplacedDocumentKeepsItsPlaceAmongEqualScores) {
    MemoryPostings p;
    for (const char* id : {"x", "y", "z"}) ASSERT_FALSE(p.upsert(unit("c", UnitType::kTurn, id), {{"cat", 1}}));
    ASSERT_FALSE(p.upsert(unit("c", UnitType::kTurn, "filler"), {{"dog", 1}}));
    const TermQuery cat = TermQuery::leaf("cat");
    EXPECT_EQ(ids_of(MemoryPostings::search({&p}, p, cat, in_cube("c"), 10, {})),
              (std::vector<std::string>{"x", "y", "z"}));
    ASSERT_TRUE(p.upsert(unit("c", UnitType::kTurn, "x"), {{"cat", 1}}));  // same number: still first
    EXPECT_EQ(ids_of(MemoryPostings::search({&p}, p, cat, in_cube("c"), 10, {})),
              (std::vector<std::string>{"x", "y", "z"}));
    ASSERT_TRUE(p.remove("c", UnitType::kTurn, "x"));
    ASSERT_FALSE(p.upsert(unit("c", UnitType::kTurn, "x"), {{"cat", 1}}));  // a new number: last
    EXPECT_EQ(ids_of(MemoryPostings::search({&p}, p, cat, in_cube("c"), 10, {})),
              (std::vector<std::string>{"y", "z", "x"}));
    EXPECT_EQ(ids_of(MemoryPostings::search({&p}, p, cat, in_cube("c"), 2, {})), (std::vector<std::string>{"y", "z"}));
    EXPECT_TRUE(MemoryPostings::search({&p}, p, cat, in_cube("c"), 0, {}).empty());
    EXPECT_TRUE(MemoryPostings::search({&p}, p, cat, in_cube("other"), 10, {}).empty());
}

TEST(MemoryPostingsTest, ManyReplacementsKeepEveryDocumentsTermsAndStatistics) {
    // Replaced and removed documents leave their terms behind until they outnumber the live ones; then they are
    // dropped. Every read stays the same throughout.
    MemoryPostings p;
    ASSERT_FALSE(p.upsert(unit("c", UnitType::kSession, "keep"), {{"alpha", 2}, {"omega", 1}}));
    std::mt19937 rng(7);
    MemoryPostings::Terms last;
    for (int round = 0; round < 3000; ++round) {
        MemoryPostings::Terms terms;
        for (int t = 0; t < 5; ++t) {
            const std::string term = "term" + std::to_string((round + t * 7) % 40);
            if (terms.empty() || terms.back().first < term) terms.emplace_back(term, 1 + rng() % 3);
        }
        p.upsert(unit("c", UnitType::kSession, "grows"), terms);
        if (round % 10 == 0) {
            ASSERT_FALSE(p.upsert(unit("c", UnitType::kSession, "t" + std::to_string(round)), {{"alpha", 1}}));
            ASSERT_TRUE(p.remove("c", UnitType::kSession, "t" + std::to_string(round)));
        }
        last = terms;
    }
    EXPECT_EQ(p.terms_of("c", UnitType::kSession, "grows"), last);
    EXPECT_EQ(p.terms_of("c", UnitType::kSession, "keep"), (MemoryPostings::Terms{{"alpha", 2}, {"omega", 1}}));
    EXPECT_EQ(p.documents(), 2u);
    std::uint64_t length = 3;
    for (const auto& entry : last) length += entry.second;
    EXPECT_EQ(p.total_length(), length);
    EXPECT_EQ(p.term_frequency("alpha"), 1u);
    EXPECT_EQ(p.term_frequency(last.front().first), 1u);
    EXPECT_EQ(
        ids_of(MemoryPostings::search({&p}, p, TermQuery::leaf("alpha"), in_cube("c", UnitType::kSession), 5, {})),
        (std::vector<std::string>{"keep"}));
    EXPECT_EQ(p.remove_cube("c"), 2u);
    EXPECT_EQ(p.documents(), 0u);
    EXPECT_EQ(p.total_length(), 0u);
}

TEST(MemoryPostingsTest, LongTermsAndTermsSharingTheirFirstBytesAreKeptApart) {
    MemoryPostings p;
    const std::vector<std::string> terms = {"internationalisation", "internationalisations", "internationalism",
                                            "internation",          "internationa",          "i",
                                            std::string(300, 'x'),  std::string(301, 'x')};
    for (std::size_t i = 0; i < terms.size(); ++i) {
        ASSERT_FALSE(p.upsert(unit("c", UnitType::kTurn, "d" + std::to_string(i)), {{terms[i], 1}}));
    }
    for (std::size_t i = 0; i < terms.size(); ++i) {
        EXPECT_EQ(p.term_frequency(terms[i]), 1u) << terms[i];
        EXPECT_EQ(ids_of(MemoryPostings::search({&p}, p, TermQuery::leaf(terms[i]), in_cube("c"), 5, {})),
                  (std::vector<std::string>{"d" + std::to_string(i)}));
    }
    EXPECT_EQ(p.term_frequency("internationalis"), 0u);
    EXPECT_EQ(p.term_frequency(std::string(299, 'x')), 0u);
}

TEST(MemoryPostingsTest, AnOrOfTermsSumsAsTheTreeEvaluationDoes) {
    // A plain OR of terms is summed into an array; wrapped in another OR it goes through the general evaluation:
    // the same documents and the same scores, bit for bit.
    MemoryPostings p;
    std::mt19937 rng(11);
    for (int d = 0; d < 300; ++d) {
        MemoryPostings::Terms terms;
        for (int t = 0; t < 12; ++t) {
            const std::string term = "w" + std::to_string(rng() % 30 + 10);
            terms.emplace_back(term, 1 + rng() % 4);
        }
        std::sort(terms.begin(), terms.end());
        MemoryPostings::Terms distinct;
        for (const auto& e : terms) {
            if (distinct.empty() || distinct.back().first != e.first) distinct.push_back(e);
        }
        p.upsert(unit(d % 3 ? "c" : "other", UnitType::kTurn, "d" + std::to_string(d)), distinct);
    }
    for (int q = 0; q < 50; ++q) {
        std::vector<TermQuery> leaves;
        for (int t = 0; t < 1 + q % 6; ++t) leaves.push_back(TermQuery::leaf("w" + std::to_string(rng() % 35 + 8)));
        const TermQuery flat = TermQuery::of(TermQuery::Op::kOr, leaves);
        const TermQuery nested = TermQuery::of(TermQuery::Op::kOr, {flat});
        for (int k : {3, 50, 1000}) {
            const auto a = MemoryPostings::search({&p}, p, flat, in_cube("c"), k, {});
            const auto b = MemoryPostings::search({&p}, p, nested, in_cube("c"), k, {});
            ASSERT_EQ(ids_of(a), ids_of(b));
            for (std::size_t i = 0; i < a.size(); ++i) EXPECT_EQ(a[i].score, b[i].score);
        }
    }
}

// The in-memory engine against Xapian's in-memory backend: the same operations on both, then every read compared.
class EnginesAgree : public ::testing::Test {
  protected:
    std::unique_ptr<LexicalIndex> xapian_ = LexicalIndex::in_memory(LexicalIndex::InMemoryEngine::kXapian);
    std::unique_ptr<LexicalIndex> postings_ = LexicalIndex::in_memory(LexicalIndex::InMemoryEngine::kPostings);

    void upsert(const UnitAttrs& attrs, const std::string& text, bool merge = false) {
        const auto analysis = LexicalIndex::analyze_text(text);
        ASSERT_TRUE(xapian_->upsert_analyzed(attrs, analysis, merge).is_ok());
        ASSERT_TRUE(postings_->upsert_analyzed(attrs, analysis, merge).is_ok());
    }
    void expect_same(const Result<std::vector<ScoredId>>& a, const Result<std::vector<ScoredId>>& b,
                     const std::string& what) {
        ASSERT_TRUE(a.is_ok()) << what;
        ASSERT_TRUE(b.is_ok()) << what;
        ASSERT_EQ(ids_of(*a), ids_of(*b)) << what;
        for (std::size_t i = 0; i < a->size(); ++i) {
            EXPECT_NEAR((*a)[i].score, (*b)[i].score, 1e-9 * std::max(1.0, std::abs((*a)[i].score))) << what;
        }
    }
    void expect_same_search(const std::string& query, const SearchFilter& filter, int k) {
        expect_same(xapian_->search(query, filter, k), postings_->search(query, filter, k), "search '" + query + "'");
    }
    void expect_same_terms(const std::vector<std::string>& terms, const SearchFilter& filter, int k) {
        std::string what = "terms";
        for (const auto& t : terms) what += " " + t;
        expect_same(xapian_->search_terms(terms, filter, k), postings_->search_terms(terms, filter, k), what);
    }
};

TEST_F(EnginesAgree, OnRandomConversationsQueriesAndFilters) {
    std::mt19937 rng(20261208);
    const std::vector<std::string> words = {"apple",  "banana", "cherry", "dog",    "eagle", "falcon", "garden",
                                            "harbor", "island", "jungle", "kettle", "lemon", "mango",  "night",
                                            "ocean",  "piano",  "quartz", "river",  "stone", "tiger",  "umbrella"};
    // Zipf-like: early words are common.
    auto word = [&] {
        std::uniform_real_distribution<double> u(0, 1);
        return words[static_cast<std::size_t>(std::pow(u(rng), 2.0) * static_cast<double>(words.size()))];
    };
    auto text = [&](int n) {
        std::string t;
        for (int i = 0; i < n; ++i) t += word() + (i % 5 == 4 ? " the " : " ");
        return t;
    };
    const std::vector<std::string> cubes = {"c1", "c2"};
    const std::vector<std::string> sessions = {"s1", "s2", "s3"};
    const std::vector<std::string> roles = {"user", "assistant"};
    int next_id = 0;
    for (int step = 0; step < 400; ++step) {
        const std::string& cube = cubes[rng() % cubes.size()];
        const std::string& session = sessions[rng() % sessions.size()];
        const int op = static_cast<int>(rng() % 20);
        if (op < 12) {
            upsert(unit(cube, UnitType::kTurn, "t" + std::to_string(next_id++), 1000 + step,
                        roles[rng() % roles.size()], session),
                   text(1 + static_cast<int>(rng() % 14)));
        } else if (op < 15) {
            // A session document grows by merging, or is replaced.
            upsert(unit(cube, UnitType::kSession, "S" + session, 1000 + step, "", session),
                   text(1 + static_cast<int>(rng() % 10)), /*merge=*/op < 14);
        } else if (op < 18) {
            upsert(unit(cube, UnitType::kNote, "n" + std::to_string(rng() % 30), 1000 + step), text(3));
        } else if (op == 18 && next_id > 0) {
            const std::string id = "t" + std::to_string(rng() % next_id);
            ASSERT_TRUE(xapian_->remove(cube, UnitType::kTurn, id).is_ok());
            ASSERT_TRUE(postings_->remove(cube, UnitType::kTurn, id).is_ok());
        } else if (step % 97 == 0) {
            ASSERT_TRUE(xapian_->remove_session(cube, session).is_ok());
            ASSERT_TRUE(postings_->remove_session(cube, session).is_ok());
        }
        if (step % 10 != 9) continue;
        for (const std::string& c : cubes) {
            for (UnitType type : {UnitType::kTurn, UnitType::kSession, UnitType::kNote}) {
                SearchFilter filter = in_cube(c, type);
                const std::vector<std::string> queries = {
                    word() + " " + word(),
                    word() + " " + word() + " " + word() + " " + word(),
                    word() + " " + word() + " " + word(),  // may repeat a word
                    word() + " AND " + word(),
                    word() + " OR " + word() + " NOT " + word(),
                    "+" + word() + " " + word() + " -" + word(),
                    "(" + word() + " OR " + word() + ") AND " + word(),
                    word() + " XOR " + word(),
                    "the and of",
                    "Apples, Bananas and cherries!",
                    word() + "-" + word() + " " + word(),  // a phrase: matched as an AND without positions
                    word() + "-" + word() + "-" + word() + " OR " + word(),
                };
                for (const auto& q : queries) {
                    expect_same_search(q, filter, 5);
                    expect_same_search(q, filter, 100);
                }
                expect_same_terms({LexicalIndex::analyze(word())[0], LexicalIndex::analyze(word())[0], "zzz"}, filter,
                                  8);
                if (type == UnitType::kTurn) {
                    SearchFilter narrow = filter;
                    narrow.role = roles[rng() % roles.size()];
                    narrow.session_id = sessions[rng() % sessions.size()];
                    expect_same_search(word() + " " + word(), narrow, 10);
                    SearchFilter timed = filter;
                    timed.time_from = 1000 + step / 3;
                    timed.time_to = 1000 + step - 5;
                    expect_same_search(word() + " " + word() + " " + word(), timed, 10);
                    timed.time_to.reset();
                    expect_same_search(word() + " " + word(), timed, 10);
                }
                std::vector<std::string> terms = {LexicalIndex::analyze(word())[0], LexicalIndex::analyze(word())[0],
                                                  "nothing"};
                auto a = xapian_->term_counts(c, type, terms);
                auto b = postings_->term_counts(c, type, terms);
                ASSERT_TRUE(a.is_ok() && b.is_ok());
                EXPECT_EQ(a->documents, b->documents);
                EXPECT_EQ(a->frequencies, b->frequencies);
                auto ia = xapian_->ids(c, type);
                auto ib = postings_->ids(c, type);
                ASSERT_TRUE(ia.is_ok() && ib.is_ok());
                EXPECT_EQ(*ia, *ib);
                EXPECT_EQ(*xapian_->count(c, type), *postings_->count(c, type));
            }
        }
        EXPECT_EQ(*xapian_->total_documents(), *postings_->total_documents());
    }
    // A whole cube removed.
    ASSERT_TRUE(xapian_->remove_cube("c1").is_ok());
    ASSERT_TRUE(postings_->remove_cube("c1").is_ok());
    EXPECT_EQ(*xapian_->total_documents(), *postings_->total_documents());
    expect_same_search("apple banana cherry", in_cube("c2"), 20);
    expect_same_search("apple banana cherry", in_cube("c1"), 20);
}

TEST_F(EnginesAgree, OnDeeplyNestedAndHostileQueries) {
    upsert(unit("c", UnitType::kTurn, "a", 0, "user", "s"), "apple banana cherry");
    upsert(unit("c", UnitType::kTurn, "b", 0, "user", "s"), "banana dog");
    upsert(unit("c", UnitType::kTurn, "d", 0, "user", "s"), "cherry dog eagle");
    // Brackets nested as deep as a 4 KiB query allows, alternating AND and OR so that no level folds into another.
    std::string nested = "apple";
    for (int level = 0; nested.size() < 3900; ++level) {
        nested = "(" + nested + (level % 2 ? " AND " : " OR ") + (level % 3 ? "dog" : "cherry") + ")";
    }
    expect_same_search(nested, in_cube("c"), 10);
    const std::vector<std::string> hostile = {"((((apple))))",
                                              "apple AND",
                                              "OR",
                                              "()",
                                              "(apple",
                                              "NOT apple",
                                              "apple NOT",
                                              "+ - \" ( ) AND OR",
                                              std::string(5000, '('),
                                              "apple " + std::string(4100, 'x'),
                                              std::string("a\0b apple", 9),
                                              "\xff\xfe banana"};
    for (const std::string& q : hostile) expect_same_search(q, in_cube("c"), 10);
}

TEST_F(EnginesAgree, OnBm25ParametersAndMetadata) {
    upsert(unit("c", UnitType::kTurn, "a", 0, "user", "s"), "long long text about the river and the stone river");
    upsert(unit("c", UnitType::kTurn, "b", 0, "user", "s"), "river");
    upsert(unit("c", UnitType::kTurn, "c", 0, "user", "s"), "stone stone stone of the mountains and valleys");
    for (auto [k1, b] : {std::pair{1.0, 0.5}, {0.0, 0.5}, {1.2, 0.0}, {2.0, 1.0}, {0.7, 0.75}}) {
        ASSERT_TRUE(xapian_->set_bm25({k1, b}).is_ok());
        ASSERT_TRUE(postings_->set_bm25({k1, b}).is_ok());
        expect_same_search("river stone", in_cube("c"), 10);
        expect_same_search("mountains river river", in_cube("c"), 10);
    }
    ASSERT_TRUE(postings_->set_metadata("k", "v1").is_ok());
    EXPECT_EQ(*postings_->metadata("k"), "v1");
    EXPECT_EQ(postings_->pending_changes(), 4u);  // three documents and the metadata
    ASSERT_TRUE(postings_->commit().is_ok());
    EXPECT_EQ(postings_->pending_changes(), 0u);
    EXPECT_EQ(*postings_->metadata("k"), "v1");
    EXPECT_EQ(*postings_->metadata("unset"), "");
}

}  // namespace
}  // namespace kasten::retrieval
