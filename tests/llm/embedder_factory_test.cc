#include "llm/embedder_factory.h"

#include <gtest/gtest.h>

#include "glove_fixture.h"
#include "temp_dir.h"

namespace kasten::llm {
namespace {

using testing::glove_fixture_kvec_path;
using testing::TempDir;

TEST(EmbedderFactoryTest, Hashing) {
    Result<std::unique_ptr<Embedder>> e = create_embedder("hashing", "/nonexistent.kvec", 128);
    ASSERT_TRUE(e.is_ok()) << e.status().to_string();
    EXPECT_EQ(e.value()->id(), "hashing-v1-128");
    EXPECT_EQ(e.value()->dim(), 128);
}

TEST(EmbedderFactoryTest, GloveLoadsTheFile) {
    Result<std::unique_ptr<Embedder>> e = create_embedder("glove", glove_fixture_kvec_path(), 256);
    ASSERT_TRUE(e.is_ok()) << e.status().to_string();
    EXPECT_EQ(e.value()->id().rfind("glove-", 0), 0u) << e.value()->id();
    EXPECT_EQ(e.value()->dim(), 24);
}

TEST(EmbedderFactoryTest, GloveMissingNamesPathAndRemedy) {
    TempDir dir;
    const std::string path = dir.file("glove.kvec");
    Result<std::unique_ptr<Embedder>> e = create_embedder("glove", path, 256);
    ASSERT_FALSE(e.is_ok());
    EXPECT_EQ(e.status().code(), StatusCode::kNotFound);
    const std::string& m = e.status().message();
    EXPECT_NE(m.find(path), std::string::npos) << m;
    EXPECT_NE(m.find("scripts/fetch_glove.sh"), std::string::npos) << m;
    EXPECT_NE(m.find("kasten embeddings import-glove"), std::string::npos) << m;
    EXPECT_EQ(create_embedder("glove", "", 256).status().code(), StatusCode::kNotFound);
}

TEST(EmbedderFactoryTest, GloveCorruptIsAnError) {
    TempDir dir;
    testing::write_file(dir.file("bad.kvec"), "KVEC garbage");
    Result<std::unique_ptr<Embedder>> e = create_embedder("glove", dir.file("bad.kvec"), 256);
    ASSERT_FALSE(e.is_ok());
    EXPECT_EQ(e.status().code(), StatusCode::kCorruption);
}

TEST(EmbedderFactoryTest, UseMissingNamesPathAndRemedy) {
    TempDir dir;
    const std::string path = dir.file("use.kuse");
    Result<std::unique_ptr<Embedder>> e = create_embedder("use", glove_fixture_kvec_path(), 256, path);
    ASSERT_FALSE(e.is_ok());
    EXPECT_EQ(e.status().code(), StatusCode::kNotFound);
    const std::string& m = e.status().message();
    EXPECT_NE(m.find(path), std::string::npos) << m;
    EXPECT_NE(m.find("scripts/fetch_use_lite.sh"), std::string::npos) << m;
    EXPECT_NE(m.find("kasten embeddings import-use"), std::string::npos) << m;
    EXPECT_EQ(create_embedder("use", glove_fixture_kvec_path(), 256).status().code(), StatusCode::kNotFound);
}

TEST(EmbedderFactoryTest, UseCorruptIsAnError) {
    TempDir dir;
    testing::write_file(dir.file("bad.kuse"), std::string(200, 'x'));
    Result<std::unique_ptr<Embedder>> e = create_embedder("use", "", 256, dir.file("bad.kuse"));
    ASSERT_FALSE(e.is_ok());
    EXPECT_EQ(e.status().code(), StatusCode::kCorruption);
}

TEST(EmbedderFactoryTest, GloveUseNeedsBothFiles) {
    TempDir dir;
    const std::string use_path = dir.file("use.kuse");
    // The encoder missing: its own error, naming its path and remedy.
    Result<std::unique_ptr<Embedder>> e = create_embedder("glove+use", glove_fixture_kvec_path(), 256, use_path);
    ASSERT_FALSE(e.is_ok());
    EXPECT_EQ(e.status().code(), StatusCode::kNotFound);
    EXPECT_NE(e.status().message().find(use_path), std::string::npos) << e.status().message();
    EXPECT_NE(e.status().message().find("scripts/fetch_use_lite.sh"), std::string::npos) << e.status().message();
    // GloVe missing: GloVe's error, whatever the encoder file.
    testing::write_file(use_path, std::string(200, 'x'));
    const std::string glove_path = dir.file("none.kvec");
    e = create_embedder("glove+use", glove_path, 256, use_path);
    ASSERT_FALSE(e.is_ok());
    EXPECT_EQ(e.status().code(), StatusCode::kNotFound);
    EXPECT_NE(e.status().message().find(glove_path), std::string::npos) << e.status().message();
    EXPECT_NE(e.status().message().find("scripts/fetch_glove.sh"), std::string::npos) << e.status().message();
    // Both present, the encoder corrupt: its load error as it is (no fallback to GloVe alone).
    e = create_embedder("glove+use", glove_fixture_kvec_path(), 256, use_path);
    ASSERT_FALSE(e.is_ok());
    EXPECT_EQ(e.status().code(), StatusCode::kCorruption);
    EXPECT_EQ(create_embedder("use+glove", glove_fixture_kvec_path(), 256, use_path).status().code(),
              StatusCode::kInvalidArgument);
    for (double w : {0.0, 1.0, -0.5, 2.0}) {
        EXPECT_EQ(create_embedder("glove+use", glove_fixture_kvec_path(), 256, use_path, w).status().code(),
                  StatusCode::kInvalidArgument)
            << w;
    }
}

TEST(EmbedderFactoryTest, AutoIgnoresTheEncoder) {
    TempDir dir;
    testing::write_file(dir.file("any.kuse"), std::string(200, 'x'));
    Result<std::unique_ptr<Embedder>> e = create_embedder("auto", glove_fixture_kvec_path(), 256, dir.file("any.kuse"));
    ASSERT_TRUE(e.is_ok()) << e.status().to_string();
    EXPECT_EQ(e.value()->id().rfind("glove-", 0), 0u) << e.value()->id();
}

TEST(EmbedderFactoryTest, AutoPrefersGloveAndFallsBackToHashing) {
    Result<std::unique_ptr<Embedder>> glove = create_embedder("auto", glove_fixture_kvec_path(), 256);
    ASSERT_TRUE(glove.is_ok());
    EXPECT_EQ(glove.value()->id().rfind("glove-", 0), 0u);

    TempDir dir;
    Result<std::unique_ptr<Embedder>> missing = create_embedder("auto", dir.file("none.kvec"), 64);
    ASSERT_TRUE(missing.is_ok());
    EXPECT_EQ(missing.value()->id(), "hashing-v1-64");

    Result<std::unique_ptr<Embedder>> empty_path = create_embedder("auto", "", 64);
    ASSERT_TRUE(empty_path.is_ok());
    EXPECT_EQ(empty_path.value()->id(), "hashing-v1-64");

    testing::write_file(dir.file("bad.kvec"), "not a kvec file");
    Result<std::unique_ptr<Embedder>> corrupt = create_embedder("auto", dir.file("bad.kvec"), 64);
    ASSERT_TRUE(corrupt.is_ok());
    EXPECT_EQ(corrupt.value()->id(), "hashing-v1-64");
}

TEST(EmbedderFactoryTest, InvalidArguments) {
    EXPECT_EQ(create_embedder("word2vec", "", 256).status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(create_embedder("", "", 256).status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(create_embedder("hashing", "", 0).status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(create_embedder("hashing", "", -5).status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(create_embedder("auto", "", 1 << 20).status().code(), StatusCode::kInvalidArgument);
    // The hashing dimension does not matter when GloVe is requested explicitly.
    EXPECT_TRUE(create_embedder("glove", glove_fixture_kvec_path(), 0).is_ok());
}

}  // namespace
}  // namespace kasten::llm
