#include "retrieval/id_positions.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <unordered_map>
#include <vector>

namespace kasten::retrieval {
namespace {

TEST(IdPositionsTest, TheFirstPositionOfAnIdWins) {
    IdPositions p(2);
    EXPECT_EQ(p.insert("a", 0), 0u);
    EXPECT_EQ(p.insert("b", 1), 1u);
    EXPECT_EQ(p.insert("a", 2), 0u);  // a repeated id keeps its first position
    EXPECT_EQ(p.find("a"), 0u);
    EXPECT_EQ(p.find("b"), 1u);
    EXPECT_EQ(p.find("c"), IdPositions::kAbsent);
    EXPECT_EQ(p.size(), 2u);
}

TEST(IdPositionsTest, AgreesWithAHashMapOnManyIds) {
    // Ids of every length up to 40 (the chunked hash's tails), sharing long prefixes, with NUL bytes, the empty id;
    // more ids than the table was sized for (it grows).
    std::mt19937 rng(3);
    std::vector<std::string> pool = {"", std::string("a\0b", 3), std::string("a\0c", 3)};
    for (int i = 0; i < 3000; ++i) {
        std::string id = i % 2 ? "t_0195f3c2-7a1b-7c3d-9e4f-" : "";
        const int extra = static_cast<int>(rng() % 16);
        for (int k = 0; k < extra; ++k) id += static_cast<char>('0' + rng() % 40);
        pool.push_back(id);
    }
    IdPositions p(100);
    std::unordered_map<std::string, std::uint32_t> expected;
    for (std::uint32_t i = 0; i < pool.size(); ++i) {
        const auto [it, fresh] = expected.emplace(pool[i], i);
        EXPECT_EQ(p.insert(pool[i], i), it->second);
    }
    EXPECT_EQ(p.size(), expected.size());
    for (const auto& [id, at] : expected) EXPECT_EQ(p.find(id), at) << id;
    for (int i = 0; i < 1000; ++i) {
        const std::string absent = "absent-" + std::to_string(i);
        EXPECT_EQ(p.find(absent), expected.count(absent) ? expected.at(absent) : IdPositions::kAbsent);
    }
}

}  // namespace
}  // namespace kasten::retrieval
