#include "eval/progress_bar.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <thread>
#include <vector>

namespace kasten::eval {
namespace {

TEST(ProgressBarTest, LineShowsBarCountRateAndEta) {
    std::string line = ProgressBar::format_line("longmemeval", 25, 100, "q", 10.0);
    EXPECT_EQ(line, "longmemeval [######..................] 25/100  25%  2.5 q/s  ETA 30s");
    std::string done = ProgressBar::format_line("x", 100, 100, "q", 125.0);
    EXPECT_NE(done.find("100/100 100%"), std::string::npos);
    EXPECT_NE(done.find("in 2m05s"), std::string::npos);
    EXPECT_NE(ProgressBar::format_line("x", 0, 10, "q", 0).find("ETA ?"), std::string::npos);
    EXPECT_EQ(ProgressBar::format_line("x", 7, 0, "q", 2.0), "x 7 q  3.5 q/s  2s");
}

TEST(ProgressBarTest, Durations) {
    EXPECT_EQ(ProgressBar::format_duration(45), "45s");
    EXPECT_EQ(ProgressBar::format_duration(187), "3m07s");
    EXPECT_EQ(ProgressBar::format_duration(3720), "1h02m");
    EXPECT_EQ(ProgressBar::format_duration(-1), "?");
}

TEST(ProgressBarTest, ConcurrentAdvancesOnAFilePrintOneLinePerTenthAndAFinalLine) {
    std::FILE* f = std::tmpfile();
    ASSERT_NE(f, nullptr);
    {
        ProgressBar bar("run", 100, "q", f);
        std::vector<std::thread> threads;
        for (int t = 0; t < 4; ++t) {
            threads.emplace_back([&] {
                for (int i = 0; i < 25; ++i) bar.advance();
            });
        }
        for (auto& t : threads) t.join();
        EXPECT_EQ(bar.done(), 100);
    }  // the destructor finishes the bar
    std::rewind(f);
    std::string text;
    char buf[4096];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof(buf), f)) > 0) text.append(buf, n);
    std::fclose(f);
    int lines = 0;
    for (char c : text) lines += c == '\n';
    EXPECT_EQ(lines, 10);  // 10%, 20%, ..., 90% and the final 100%
    EXPECT_NE(text.find("100/100"), std::string::npos);
    EXPECT_EQ(text.find('\r'), std::string::npos);
}

TEST(ProgressBarTest, DisabledBarPrintsNothing) {
    std::FILE* f = std::tmpfile();
    ASSERT_NE(f, nullptr);
    {
        ProgressBar bar("run", 10, "q", f, /*enabled=*/false);
        bar.advance(10);
    }
    EXPECT_EQ(std::ftell(f), 0);
    std::fclose(f);
}

}  // namespace
}  // namespace kasten::eval
