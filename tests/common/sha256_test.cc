#include "common/sha256.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

namespace kasten {
namespace {

TEST(Sha256Test, KnownVectors) {
    EXPECT_EQ(Sha256::hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    EXPECT_EQ(Sha256::hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    EXPECT_EQ(Sha256::hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
              "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST(Sha256Test, IncrementalEqualsOneShot) {
    std::string data(1000, 'x');
    for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>('a' + i % 26);
    Sha256 h;
    for (size_t i = 0; i < data.size(); i += 7) h.update(std::string_view(data).substr(i, 7));
    EXPECT_EQ(h.hex_digest(), Sha256::hex(data));
}

std::string hex_of(std::string_view data, Sha256::Engine engine, std::size_t piece) {
    Sha256 h(engine);
    for (std::size_t i = 0; i < data.size(); i += piece) h.update(data.substr(i, piece));
    return h.hex_digest();
}

TEST(Sha256Test, BothEnginesGiveTheFipsVectors) {
    for (Sha256::Engine engine : {Sha256::Engine::kBest, Sha256::Engine::kPortable}) {
        EXPECT_EQ(hex_of("abc", engine, 64), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        EXPECT_EQ(
            hex_of("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrs"
                   "mnopqrstnopqrstu",
                   engine, 1000),
            "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
        EXPECT_EQ(hex_of(std::string(1000000, 'a'), engine, 4096),
                  "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
    }
}

TEST(Sha256Test, TheExtensionsAndThePortableBlockFunctionAgree) {
    // On a CPU without SHA-NI both are the portable function (then this checks the piecewise updates only).
    std::mt19937 rng(5);
    std::string data(70000, '\0');
    for (char& c : data) c = static_cast<char>(rng());
    for (std::size_t length : {0u, 1u, 55u, 56u, 63u, 64u, 65u, 119u, 128u, 1000u, 4095u, 70000u}) {
        const std::string_view prefix = std::string_view(data).substr(0, length);
        for (std::size_t piece : {1u, 13u, 64u, 100u, 70000u}) {
            EXPECT_EQ(hex_of(prefix, Sha256::Engine::kBest, piece), hex_of(prefix, Sha256::Engine::kPortable, 64))
                << length << " bytes in pieces of " << piece << (Sha256::accelerated() ? " (SHA-NI)" : "");
        }
    }
}

}  // namespace
}  // namespace kasten
