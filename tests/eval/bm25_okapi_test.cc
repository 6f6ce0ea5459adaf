#include "eval/bm25_okapi.h"

#include <gtest/gtest.h>

#include <cmath>

namespace kasten::eval {
namespace {

TEST(Bm25OkapiTest, SplitOnSpacesIsPythonSplitWithASpace) {
    EXPECT_EQ(split_on_spaces("a b"), (std::vector<std::string>{"a", "b"}));
    EXPECT_EQ(split_on_spaces("a  b "), (std::vector<std::string>{"a", "", "b", ""}));
    EXPECT_EQ(split_on_spaces("line\nbreak\tstays one"), (std::vector<std::string>{"line\nbreak\tstays", "one"}));
    EXPECT_EQ(split_on_spaces(""), (std::vector<std::string>{""}));
}

// Corpus [[a, b], [a, c], [a, a, d]]: N = 3, avgdl = 7/3.
// Raw idf: a = ln(0.5) - ln(3.5) = -1.945910; b, c, d = ln(2.5) - ln(1.5) = 0.510826.
// average_idf = (-1.945910 + 3 * 0.510826) / 4 = -0.103358; a is negative, so idf(a) = 0.25 * average = -0.025840.
TEST(Bm25OkapiTest, IdfFloorFollowsRankBm25) {
    Bm25Okapi bm25({{"a", "b"}, {"a", "c"}, {"a", "a", "d"}});
    EXPECT_NEAR(bm25.avgdl(), 7.0 / 3.0, 1e-15);
    const double raw_a = std::log(0.5) - std::log(3.5);
    const double raw_b = std::log(2.5) - std::log(1.5);
    EXPECT_NEAR(bm25.average_idf(), (raw_a + 3 * raw_b) / 4, 1e-15);
    EXPECT_NEAR(bm25.idf("a"), 0.25 * (raw_a + 3 * raw_b) / 4, 1e-15);
    EXPECT_NEAR(bm25.idf("a"), -0.02583957985983383, 1e-15);
    EXPECT_NEAR(bm25.idf("b"), 0.5108256237659907, 1e-15);
    EXPECT_EQ(bm25.idf("zz"), 0);
}

TEST(Bm25OkapiTest, ScoresMatchHandComputedValues) {
    Bm25Okapi bm25({{"a", "b"}, {"a", "c"}, {"a", "a", "d"}});
    // doc 0, query "b": tf 1, |d| 2: 0.510826 * 2.5 / (1 + 1.5 * (0.25 + 0.75 * 2 / (7/3))) = 0.545921.
    auto s = bm25.scores({"b"});
    ASSERT_EQ(s.size(), 3u);
    EXPECT_NEAR(s[0], 0.545920513948387, 1e-14);
    EXPECT_EQ(s[1], 0);
    EXPECT_EQ(s[2], 0);
    // Repeated query tokens count twice; unknown tokens add nothing; the floored idf of "a" is negative here.
    auto r = bm25.scores({"a", "b", "b", "zz"});
    EXPECT_NEAR(r[0], 1.0642262097259594, 1e-14);
    EXPECT_NEAR(r[1], -0.027614818170814782, 1e-15);
    EXPECT_NEAR(r[2], -0.03380879607828726, 1e-15);
}

TEST(Bm25OkapiTest, EmptyTokensAreWords) {
    // [[the, cat, sat], [the, dog], [a, cat, and, a, dog], [birds, fly], [""]]: avgdl 13/5.
    Bm25Okapi bm25({{"the", "cat", "sat"}, {"the", "dog"}, {"a", "cat", "and", "a", "dog"}, {"birds", "fly"}, {""}});
    EXPECT_NEAR(bm25.avgdl(), 2.6, 1e-15);
    EXPECT_NEAR(bm25.idf(""), std::log(4.5) - std::log(1.5), 1e-15);
    auto s = bm25.scores({"dog", "cat"});
    EXPECT_NEAR(s[0], 0.3146862644658826, 1e-14);
    EXPECT_NEAR(s[1], 0.375462581637405, 1e-14);
    EXPECT_NEAR(s[2], 0.4754498995734531, 1e-14);
    EXPECT_EQ(s[3], 0);
    EXPECT_EQ(s[4], 0);
}

TEST(Bm25OkapiTest, EmptyCorpusScoresNothing) {
    Bm25Okapi bm25(std::vector<std::vector<std::string>>{});
    EXPECT_TRUE(bm25.scores({"x"}).empty());
}

TEST(Bm25OkapiTest, RankingIsNumpyArgsortReversed) {
    // Up to 16 elements numpy insertion-sorts (stable), so reversed ties put the higher index first.
    EXPECT_EQ(rank_by_descending_score({0.5, 2.0, 0.5, 1.0, 0.0}), (std::vector<int>{1, 3, 2, 0, 4}));
    EXPECT_EQ(rank_by_descending_score({0, 0, 0}), (std::vector<int>{2, 1, 0}));
    EXPECT_TRUE(rank_by_descending_score({}).empty());
    // Beyond that the median-of-three quicksort scrambles ties; expected orders printed by numpy 1.24
    // (list(np.argsort(np.array(s))[::-1])).
    std::vector<double> s;
    for (int i = 0; i < 40; ++i) s.push_back(static_cast<double>((i * 7) % 5));
    EXPECT_EQ(rank_by_descending_score(s),
              (std::vector<int>{37, 2, 7,  32, 12, 17, 22, 27, 39, 24, 4, 9,  14, 19, 29, 34, 31, 11, 26, 16,
                                36, 1, 21, 6,  18, 38, 3,  13, 28, 33, 8, 23, 5,  35, 25, 10, 30, 15, 20, 0}));
    // 17 elements already partition: np.argsort(np.zeros(17)) = [0, 14, 13, ..., 9, 15, 8, 6, ..., 1, 7, 16].
    EXPECT_EQ(rank_by_descending_score(std::vector<double>(17, 0.0)),
              (std::vector<int>{16, 7, 1, 2, 3, 4, 5, 6, 8, 15, 9, 10, 11, 12, 13, 14, 0}));
    std::vector<int> zeros = rank_by_descending_score(std::vector<double>(30, 0.0));
    std::vector<int> expected = {29, 28};
    for (int i = 1; i <= 27; ++i) expected.push_back(i);
    expected.push_back(0);
    EXPECT_EQ(zeros, expected);
}

}  // namespace
}  // namespace kasten::eval
