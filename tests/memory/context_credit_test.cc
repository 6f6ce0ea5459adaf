#include "memory/context_credit.h"

#include <gtest/gtest.h>

namespace kasten::memory {
namespace {

using retrieval::FusedHit;
using store::TurnPlace;

FusedHit hit(const std::string& id, double score) {
    FusedHit h;
    h.id = id;
    h.score = score;
    return h;
}

std::vector<std::string> ids(const std::vector<FusedHit>& fused) {
    std::vector<std::string> out;
    for (const auto& h : fused) out.push_back(h.id);
    return out;
}

TEST(ContextCreditTest, NeighboursLendTheirBestScoreWithinTheRadiusAndSession) {
    // s1: a(0) b(1) c(2) d(3); s2: e(2) sits at the index next to b but in another session.
    const std::vector<TurnPlace> places = {
        {"c", "s1", 2}, {"a", "s1", 0}, {"b", "s1", 1}, {"d", "s1", 3}, {"e", "s2", 2}};
    const std::vector<FusedHit> fused = {hit("b", 0.9), hit("d", 0.4), hit("e", 0.7)};
    const Credit credit = neighbour_credit(fused, places, 1);
    EXPECT_DOUBLE_EQ(credit.at("a"), 0.9);  // from b
    EXPECT_DOUBLE_EQ(credit.at("c"), 0.9);  // the better of b and d
    EXPECT_FALSE(credit.contains("b"));     // a and c are not candidates: they lend 0
    EXPECT_FALSE(credit.contains("d"));     // c lends 0; e is in another session
    EXPECT_FALSE(credit.contains("e"));
    const Credit wider = neighbour_credit(fused, places, 2);
    EXPECT_DOUBLE_EQ(wider.at("b"), 0.4);  // d is two turns away
    EXPECT_DOUBLE_EQ(wider.at("d"), 0.9);
    EXPECT_TRUE(neighbour_credit(fused, places, 0).empty());
}

TEST(ContextCreditTest, RollupGivesEachSessionItsBestTurn) {
    const std::vector<TurnPlace> places = {{"a", "s1", 0}, {"b", "s1", 1}, {"c", "s2", 0}};
    const std::vector<FusedHit> turns = {hit("b", 0.8), hit("a", 0.5), hit("c", 0.3), hit("unplaced", 1.0)};
    const Credit credit = rollup_credit(turns, places);
    ASSERT_EQ(credit.size(), 2u);
    EXPECT_DOUBLE_EQ(credit.at("s1"), 0.8);
    EXPECT_DOUBLE_EQ(credit.at("s2"), 0.3);
}

TEST(ContextCreditTest, SessionCreditGoesToTheTurnsOfScoredSessions) {
    const std::vector<TurnPlace> places = {{"a", "s1", 0}, {"b", "s2", 0}};
    const Credit credit = session_credit({hit("s1", 0.6)}, places);
    ASSERT_EQ(credit.size(), 1u);
    EXPECT_DOUBLE_EQ(credit.at("a"), 0.6);
}

TEST(ContextCreditTest, AddCreditWeighsReordersAndJoinsInIdOrder) {
    std::vector<FusedHit> fused = {hit("x", 1.0), hit("y", 0.8)};
    add_credit(fused, {{"y", 1.0}, {"z2", 0.5}, {"z1", 0.5}}, 0.5);
    ASSERT_EQ(fused.size(), 4u);
    EXPECT_EQ(ids(fused), (std::vector<std::string>{"y", "x", "z1", "z2"}));
    EXPECT_DOUBLE_EQ(fused[0].score, 1.3);
    EXPECT_DOUBLE_EQ(fused[2].score, 0.25);
    // weight 0 or no credit: unchanged
    const auto before = ids(fused);
    add_credit(fused, {{"x", 9.0}}, 0.0);
    add_credit(fused, {}, 1.0);
    EXPECT_EQ(ids(fused), before);
    EXPECT_DOUBLE_EQ(fused[1].score, 1.0);
}

TEST(ContextCreditTest, LendersLendWhatTheyHadBeforeCredit) {
    // a and b are neighbours: each borrows from the other's own score, not from what it borrowed.
    const std::vector<TurnPlace> places = {{"a", "s", 0}, {"b", "s", 1}};
    std::vector<FusedHit> fused = {hit("a", 1.0), hit("b", 0.5)};
    const Credit credit = neighbour_credit(fused, places, 1);
    add_credit(fused, credit, 1.0);
    EXPECT_DOUBLE_EQ(fused[0].score, 1.5);  // a + b's 0.5
    EXPECT_DOUBLE_EQ(fused[1].score, 1.5);  // b + a's 1.0
    EXPECT_EQ(fused[0].id, "a");            // stable on ties
}

}  // namespace
}  // namespace kasten::memory
