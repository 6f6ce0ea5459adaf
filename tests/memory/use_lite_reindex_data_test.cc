// `kasten reindex` switches a cube to Universal Sentence Encoder lite: a cube written with another embedder refuses
// vector search under the encoder until reindexed, then searches by meaning. ctest label "data": needs the converted
// encoder named by KASTEN_TEST_USE (scripts/test.sh creates it); fails, never skips, without it.
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include "common/clock.h"
#include "llm/hashing_embedder.h"
#include "llm/use_lite_embedder.h"
#include "memory/memory_manager.h"

namespace kasten::memory {
namespace {

namespace fs = std::filesystem;

std::shared_ptr<const llm::Embedder> use_lite() {
    const char* path = std::getenv("KASTEN_TEST_USE");
    if (path == nullptr || *path == '\0') {
        ADD_FAILURE() << "KASTEN_TEST_USE is not set: run scripts/fetch_use_lite.sh, then "
                         "`build/kasten embeddings import-use --package-dir DIR --out FILE`, and set it to FILE";
        return nullptr;
    }
    Result<std::unique_ptr<llm::UseLiteEmbedder>> e = llm::UseLiteEmbedder::load(path);
    if (!e.is_ok()) {
        ADD_FAILURE() << e.status().to_string();
        return nullptr;
    }
    return std::shared_ptr<const llm::Embedder>(std::move(e).value());
}

std::unique_ptr<MemoryManager> open_mm(const std::string& dir, const Clock* clock,
                                       std::shared_ptr<const llm::Embedder> emb) {
    MemoryOptions o;
    o.embedder = std::move(emb);
    o.clock = clock;
    o.data_dir = dir;
    auto r = MemoryManager::open(o);
    EXPECT_TRUE(r.is_ok()) << r.status().to_string();
    return r.is_ok() ? std::move(r).value() : nullptr;
}

AddMessagesRequest one_turn(const std::string& session, const std::string& text, TimeMs t) {
    AddMessagesRequest req;
    req.cube_id = "alice";
    req.session_id = session;
    req.time = t;
    req.messages = {{"user", text, std::nullopt}};
    return req;
}

TEST(UseLiteReindexDataTest, ReindexSwitchesACubeToTheEncoder) {
    const fs::path dir = fs::temp_directory_path() / ("kasten-use-reindex-" + std::to_string(::getpid()));
    fs::remove_all(dir);
    FakeClock clock;
    std::shared_ptr<const llm::Embedder> use = use_lite();
    ASSERT_NE(use, nullptr);
    {
        auto mm = open_mm(dir.string(), &clock, std::make_shared<llm::HashingEmbedder>(128));
        ASSERT_NE(mm, nullptr);
        ASSERT_TRUE(mm->add_messages(one_turn("pets", "I adopted a beagle puppy named Biscuit last week", 1)).is_ok());
        ASSERT_TRUE(
            mm->add_messages(one_turn("taxes", "I finally sent the quarterly tax report to my accountant", 2)).is_ok());
        ASSERT_TRUE(mm->add_messages(one_turn("trip", "We are flying to Lisbon for my sister's wedding", 3)).is_ok());
        EXPECT_EQ(mm->get_cube("alice")->cube.embedder_id, "hashing-v1-128");
    }
    auto mm = open_mm(dir.string(), &clock, use);
    ASSERT_NE(mm, nullptr);
    SearchRequest req;
    req.cube_id = "alice";
    req.query = "my new dog";
    req.granularity = Granularity::kTurn;
    req.retriever = Retriever::kVector;
    req.top_k = 3;
    EXPECT_EQ(mm->search(req).status().code(), StatusCode::kFailedPrecondition);

    auto sum = mm->reindex("alice");
    ASSERT_TRUE(sum.is_ok()) << sum.status().to_string();
    EXPECT_EQ(sum->reembedded, 6);  // 3 turns + 3 sessions
    EXPECT_EQ(mm->get_cube("alice")->cube.embedder_id, "use-lite-en-512-v1");
    EXPECT_TRUE(mm->check_consistency().value().consistent());

    // No word of the query is in the stored turns: only the encoder's meaning finds them.
    for (const auto& [query, session] : std::vector<std::pair<std::string, std::string>>{
             {"my new dog", "pets"}, {"paying income taxes", "taxes"}, {"a family marriage abroad", "trip"}}) {
        req.query = query;
        auto hits = mm->search(req);
        ASSERT_TRUE(hits.is_ok()) << hits.status().to_string();
        ASSERT_FALSE(hits->empty()) << query;
        EXPECT_EQ(hits->front().session_id, session) << query;
    }
    mm.reset();
    fs::remove_all(dir);
}

}  // namespace
}  // namespace kasten::memory
