#include "memory/turn_place_index.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>

namespace kasten::memory {
namespace {

std::vector<std::string> ids(const std::vector<store::TurnPlace>& places) {
    std::vector<std::string> out;
    for (const auto& p : places) out.push_back(p.id);
    return out;
}

TEST(TurnPlaceIndexTest, NearIsEachTurnAndItsNeighboursOnceInRequestOrder) {
    TurnPlaceIndex index;
    for (int i = 0; i < 6; ++i) index.put("c", {"t_" + std::to_string(i), "s_1", i});
    index.put("c", {"t_b", "s_2", 0});
    index.put("c", {"t_b1", "s_2", 1});
    index.put("other", {"t_x", "s_other", 0});
    const auto got = index.near("c", {"t_2", "t_1", "t_b", "t_x", "missing"}, 1);
    // t_1..t_3 around t_2, then t_0 (t_1 and t_2 already listed), t_b and t_b1; t_x is another cube's.
    EXPECT_EQ(ids(got), (std::vector<std::string>{"t_1", "t_2", "t_3", "t_0", "t_b", "t_b1"}));
    for (const auto& p : got) {
        if (p.id == "t_3") {
            EXPECT_EQ(p.session_id, "s_1");
            EXPECT_EQ(p.index, 3);
        }
    }
    const auto alone = index.near("c", {"t_4", "t_b1"}, 0);
    EXPECT_EQ(ids(alone), (std::vector<std::string>{"t_4", "t_b1"}));
    EXPECT_EQ(alone[1].session_id, "s_2");
    EXPECT_EQ(alone[1].index, 1);
    EXPECT_TRUE(index.near("c", {}, 1).empty());
    EXPECT_TRUE(index.near("nobody", {"t_1"}, 1).empty());
    EXPECT_EQ(index.size("c"), 8u);
}

TEST(TurnPlaceIndexTest, RadiusCountsPositionsAndGapsStayGaps) {
    TurnPlaceIndex index;
    for (int i = 0; i < 5; ++i) index.put("c", {"t_" + std::to_string(i), "s", i});
    index.remove("c", "t_2");  // a deleted turn leaves a gap; positions are not renumbered
    EXPECT_EQ(ids(index.near("c", {"t_1"}, 1)), (std::vector<std::string>{"t_0", "t_1"}));
    EXPECT_EQ(ids(index.near("c", {"t_1"}, 2)), (std::vector<std::string>{"t_0", "t_1", "t_3"}));
    EXPECT_TRUE(index.near("c", {"t_2"}, 1).empty());
    index.remove("c", "t_2");  // twice: a no-op
    index.remove("nobody", "t_1");
    EXPECT_EQ(index.size("c"), 4u);
}

TEST(TurnPlaceIndexTest, PutMovesATurnAndResetReplacesTheCube) {
    TurnPlaceIndex index;
    index.put("c", {"t_a", "s_1", 0});
    index.put("c", {"t_b", "s_1", 1});
    index.put("c", {"t_b", "s_2", 0});  // moved
    EXPECT_EQ(ids(index.near("c", {"t_a"}, 1)), std::vector<std::string>{"t_a"});
    EXPECT_EQ(index.near("c", {"t_b"}, 0).front().session_id, "s_2");
    index.reset_cube("c", {{"t_z", "s_9", 4}, {"t_y", "s_9", 5}});
    EXPECT_TRUE(index.near("c", {"t_a"}, 1).empty());
    EXPECT_EQ(ids(index.near("c", {"t_z"}, 1)), (std::vector<std::string>{"t_z", "t_y"}));
    index.remove_cube("c");
    EXPECT_EQ(index.size("c"), 0u);
    EXPECT_TRUE(index.near("c", {"t_z"}, 1).empty());
}

TEST(TurnPlaceIndexTest, OutOfOrderPutsAndSharedPositionsMatchAPlainModel) {
    // Random puts (positions out of order, moves between sessions, two turns put at one position: the newer holds
    // it) and removes, checked against a model that keeps (session, position) -> newest turn in an ordered map.
    TurnPlaceIndex index;
    std::map<std::pair<std::string, int>, std::string> model;
    std::map<std::string, std::pair<std::string, int>> where;
    std::mt19937 rng(7);
    for (int step = 0; step < 4000; ++step) {
        const std::string id = "t_" + std::to_string(rng() % 60);
        if (rng() % 5 == 0) {
            index.remove("c", id);
            auto w = where.find(id);
            if (w != where.end()) {
                auto m = model.find(w->second);
                if (m != model.end() && m->second == id) model.erase(m);
                where.erase(w);
            }
            continue;
        }
        const std::string session = "s_" + std::to_string(rng() % 4);
        const int position = static_cast<int>(rng() % 25);
        index.put("c", {id, session, position});
        auto w = where.find(id);
        if (w != where.end()) {
            auto m = model.find(w->second);
            if (m != model.end() && m->second == id) model.erase(m);
        }
        where[id] = {session, position};
        model[{session, position}] = id;
    }
    for (const auto& [id, spot] : where) {
        std::vector<std::string> expected;
        for (auto m = model.lower_bound({spot.first, spot.second - 2});
             m != model.end() && m->first.first == spot.first && m->first.second <= spot.second + 2; ++m) {
            expected.push_back(m->second);
        }
        EXPECT_EQ(ids(index.near("c", {id}, 2)), expected) << id;
    }
    EXPECT_EQ(index.size("c"), where.size());
}

TEST(TurnPlaceIndexTest, VisitNearShowsNearsPlacesAsViews) {
    TurnPlaceIndex index;
    std::mt19937 rng(11);
    for (int i = 0; i < 300; ++i) {
        // Ids longer than a short string's inline buffer, and some short ones.
        const std::string id = (i % 3 ? "t_0195f3c2-long-turn-identifier-" : "t") + std::to_string(i);
        index.put("c", {id, "s_" + std::to_string(rng() % 9), static_cast<int>(rng() % 40)});
    }
    for (int round = 0; round < 50; ++round) {
        std::vector<std::string> asked;
        for (int k = 0; k < 30; ++k) {
            const int i = static_cast<int>(rng() % 320);  // some ids are missing
            asked.push_back((i % 3 ? "t_0195f3c2-long-turn-identifier-" : "t") + std::to_string(i));
        }
        for (int radius : {0, 1, 2}) {
            const auto expected = index.near("c", asked, radius);
            const std::vector<std::string_view> views(asked.begin(), asked.end());
            int calls = 0;
            index.visit_near("c", views, radius, [&](std::span<const TurnPlaceIndex::PlaceView> got) {
                ++calls;
                ASSERT_EQ(got.size(), expected.size());
                std::map<std::uint32_t, std::string> session_of;  // one session per number, one number per session
                std::map<std::string, std::uint32_t> number_of;
                for (std::size_t i = 0; i < got.size(); ++i) {
                    EXPECT_EQ(got[i].id, expected[i].id);
                    EXPECT_EQ(got[i].index, expected[i].index);
                    auto [s, fresh_s] = session_of.emplace(got[i].session, expected[i].session_id);
                    EXPECT_EQ(s->second, expected[i].session_id);
                    auto [n, fresh_n] = number_of.emplace(expected[i].session_id, got[i].session);
                    EXPECT_EQ(n->second, got[i].session);
                }
            });
            EXPECT_EQ(calls, 1);
        }
    }
    int calls = 0;
    index.visit_near("nobody", {"t1"}, 1, [&](std::span<const TurnPlaceIndex::PlaceView> got) {
        ++calls;
        EXPECT_TRUE(got.empty());
    });
    EXPECT_EQ(calls, 1);
}

}  // namespace
}  // namespace kasten::memory
