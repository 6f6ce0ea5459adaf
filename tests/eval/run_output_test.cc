#include "eval/run_output.h"

#include <filesystem>

#include <gtest/gtest.h>

#include "eval_fixture.h"

namespace kasten::eval {
namespace {

TEST(RunOutputTest, CreatesDirectoryAndWritesFilesVerbatim) {
    testing::TempDir tmp;
    const std::string dir = (tmp.path() / "a" / "b").string();
    ASSERT_TRUE(write_run_output(dir, {{"report.md", "# t\n"}, {"metrics.json", std::string("{\0}\n", 4)}}).is_ok());
    EXPECT_EQ(testing::read_file(dir + "/report.md"), "# t\n");
    EXPECT_EQ(testing::read_file(dir + "/metrics.json"), std::string("{\0}\n", 4));
}

TEST(RunOutputTest, ReplacesExistingFiles) {
    testing::TempDir tmp;
    const std::string dir = tmp.path().string();
    testing::write_file(tmp.file("report.md"), "an older and longer report\n");
    ASSERT_TRUE(write_run_output(dir, {{"report.md", "new\n"}}).is_ok());
    EXPECT_EQ(testing::read_file(tmp.file("report.md")), "new\n");
}

TEST(RunOutputTest, UnwritableTargetIsIoErrorNamingIt) {
    testing::TempDir tmp;
    testing::write_file(tmp.file("plain"), "x");
    // A regular file where the directory should be.
    Status s = write_run_output(tmp.file("plain"), {{"report.md", "x"}});
    EXPECT_EQ(s.code(), StatusCode::kIOError);
    EXPECT_NE(s.message().find("plain"), std::string::npos);
    // A directory where a file should be.
    std::filesystem::create_directories(tmp.path() / "report.md");
    s = write_run_output(tmp.path().string(), {{"report.md", "x"}});
    EXPECT_EQ(s.code(), StatusCode::kIOError);
    EXPECT_NE(s.message().find("report.md"), std::string::npos);
}

}  // namespace
}  // namespace kasten::eval
