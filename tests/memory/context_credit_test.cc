#include "memory/context_credit.h"

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <set>

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
    add_credit(fused, Credit{{"y", 1.0}, {"z2", 0.5}, {"z1", 0.5}}, 0.5);
    ASSERT_EQ(fused.size(), 4u);
    EXPECT_EQ(ids(fused), (std::vector<std::string>{"y", "x", "z1", "z2"}));
    EXPECT_DOUBLE_EQ(fused[0].score, 1.3);
    EXPECT_DOUBLE_EQ(fused[2].score, 0.25);
    // weight 0 or no credit: unchanged
    const auto before = ids(fused);
    add_credit(fused, Credit{{"x", 9.0}}, 0.0);
    add_credit(fused, Credit{}, 1.0);
    add_credit(fused, CreditList{}, 1.0);
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

TEST(ContextCreditTest, TheBestModeKeepsTheBetterOfScoreAndCredit) {
    std::vector<FusedHit> fused = {hit("a", 1.0), hit("b", 0.5)};
    const std::string a = "a", b = "b", z = "z", y = "y";  // the credit views these
    apply_credit(fused, CreditList{{a, 0.8}, {b, 0.9}, {z, 0.7}, {y, 0.7}}, 1.0, CreditMode::kBest);
    // a keeps its 1.0; b takes its credit 0.9; y and z join in id order with theirs.
    EXPECT_EQ(ids(fused), (std::vector<std::string>{"a", "b", "y", "z"}));
    EXPECT_DOUBLE_EQ(fused[0].score, 1.0);
    EXPECT_DOUBLE_EQ(fused[1].score, 0.9);
    EXPECT_DOUBLE_EQ(fused[2].score, 0.7);
    apply_credit(fused, CreditList{{a, 0.8}}, 2.0, CreditMode::kBest);  // weighted: 1.6 beats 1.0
    EXPECT_DOUBLE_EQ(fused[0].score, 1.6);
    apply_credit(fused, CreditList{{b, 5.0}}, 0.0, CreditMode::kBest);  // weight 0: unchanged
    EXPECT_DOUBLE_EQ(fused[1].score, 0.9);
}

TEST(ContextCreditTest, PlaceViewsLendAsTurnPlacesDo) {
    // The same places as strings and as index views (sessions numbered in another order than their ids sort):
    // the same credit, and the same ranking after it is added.
    std::mt19937 rng(5);
    for (int round = 0; round < 200; ++round) {
        std::vector<TurnPlace> places;
        std::vector<FusedHit> fused;
        std::map<std::string, std::uint32_t> number;
        std::set<std::string> used;  // a turn has one place (positions may repeat: the first listed holds it)
        for (int i = 0; i < 60; ++i) {
            const std::string session = "s" + std::to_string(rng() % 6);
            number.emplace(session, static_cast<std::uint32_t>(97 - number.size() * 13));
            std::string id = "turn-with-a-long-identifier-" + std::to_string(rng() % 80);
            if (!used.insert(id).second) continue;
            places.push_back({id, session, static_cast<int>(rng() % 12)});
            if (rng() % 2) fused.push_back(hit(places.back().id, static_cast<double>(rng() % 5) / 4));
        }
        for (int i = 0; i < 5; ++i) fused.push_back(hit("elsewhere" + std::to_string(i), 0.5));  // not a place
        std::vector<TurnPlaceIndex::PlaceView> views;
        for (const auto& p : places) views.push_back({p.id, number.at(p.session_id), p.index});
        for (int radius : {1, 2}) {
            const Credit expected = neighbour_credit(fused, places, radius);
            const CreditList got = neighbour_credit(fused, views, radius);
            Credit as_map;
            for (const auto& [id, c] : got) EXPECT_TRUE(as_map.emplace(std::string(id), c).second) << id;
            EXPECT_EQ(as_map, expected);
            auto by_map = fused, by_list = fused;
            add_credit(by_map, expected, 0.5);
            add_credit(by_list, got, 0.5);
            ASSERT_EQ(ids(by_list), ids(by_map));
            for (std::size_t i = 0; i < by_map.size(); ++i) EXPECT_EQ(by_list[i].score, by_map[i].score);
        }
    }
}

}  // namespace
}  // namespace kasten::memory
