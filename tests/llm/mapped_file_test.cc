#include "llm/mapped_file.h"

#include <utility>

#include <gtest/gtest.h>

#include "temp_dir.h"

namespace kasten::llm {
namespace {

using testing::TempDir;
using testing::write_file;

TEST(MappedFileTest, MapsContents) {
    TempDir dir;
    write_file(dir.file("a"), "hello mapping");
    Result<MappedFile> file = MappedFile::open(dir.file("a"), MappedFile::Access::kSequential, true);
    ASSERT_TRUE(file.is_ok()) << file.status().to_string();
    EXPECT_EQ(file->bytes(), "hello mapping");
    EXPECT_EQ(file->size(), 13u);
    EXPECT_EQ(file->path(), dir.file("a"));
}

TEST(MappedFileTest, EmptyFileIsAnEmptyView) {
    TempDir dir;
    write_file(dir.file("empty"), "");
    Result<MappedFile> file = MappedFile::open(dir.file("empty"));
    ASSERT_TRUE(file.is_ok());
    EXPECT_EQ(file->size(), 0u);
    EXPECT_TRUE(file->bytes().empty());
}

TEST(MappedFileTest, ErrorsAreStatuses) {
    TempDir dir;
    Result<MappedFile> missing = MappedFile::open(dir.file("missing"));
    ASSERT_FALSE(missing.is_ok());
    EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
    EXPECT_NE(missing.status().message().find("missing"), std::string::npos);
    Result<MappedFile> directory = MappedFile::open(dir.path().string());
    ASSERT_FALSE(directory.is_ok());
    EXPECT_EQ(directory.status().code(), StatusCode::kIOError);
}

TEST(MappedFileTest, MoveTransfersOwnership) {
    TempDir dir;
    write_file(dir.file("a"), "abc");
    Result<MappedFile> opened = MappedFile::open(dir.file("a"));
    ASSERT_TRUE(opened.is_ok());
    MappedFile a = std::move(opened).value();
    MappedFile b = std::move(a);
    EXPECT_EQ(a.size(), 0u);  // NOLINT(bugprone-use-after-move): moved-from state is specified
    EXPECT_EQ(a.data(), nullptr);
    EXPECT_EQ(b.bytes(), "abc");
    MappedFile c;
    c = std::move(b);
    EXPECT_EQ(c.bytes(), "abc");
}

}  // namespace
}  // namespace kasten::llm
