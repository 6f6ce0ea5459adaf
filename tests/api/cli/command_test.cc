#include "api/cli/command.h"

#include <gtest/gtest.h>

namespace kasten::api {
namespace {

Result<ParsedArgs> parse(const Command& c, const std::vector<std::string>& args) {
    return ArgParser(c.flags).parse(args);
}

bool mentions(const std::string& text, const std::string& needle) {
    return text.find(needle) != std::string::npos;
}

TEST(CommandTest, AddAndServeTakeTheNotesSetting) {
    auto add = parse(add_command(), {"--cube", "alice", "--notes", "off", "I", "moved"});
    ASSERT_TRUE(add.is_ok()) << add.status().to_string();
    EXPECT_EQ(*add->get("notes"), "off");
    EXPECT_TRUE(mentions(command_help(add_command()), "--notes MODE"));
    auto serve = parse(serve_command(), {"--model", "m.gguf", "--notes=llm"});
    ASSERT_TRUE(serve.is_ok()) << serve.status().to_string();
    EXPECT_EQ(*serve->get("notes"), "llm");
    EXPECT_TRUE(mentions(command_help(serve_command()), "heuristic | llm | off"));
    // Commands that add nothing have no --notes: they never build notes.
    EXPECT_FALSE(parse(search_command(), {"--cube", "alice", "--notes", "off", "q"}).is_ok());
}

TEST(CommandTest, LinksAndJobsTakeACubeAndAnId) {
    auto links = parse(links_command(), {"--cube", "alice", "n_1", "--json"});
    ASSERT_TRUE(links.is_ok()) << links.status().to_string();
    EXPECT_EQ(links->positionals, std::vector<std::string>{"n_1"});
    EXPECT_TRUE(mentions(command_help(links_command()), "kasten links --cube C (--note ID | NOTE_ID)"));
    auto jobs = parse(jobs_command(), {"--cube", "alice", "--limit", "5"});
    ASSERT_TRUE(jobs.is_ok());
    EXPECT_EQ(*jobs->get("limit"), "5");
    auto one = parse(jobs_command(), {"--cube", "alice", "j_1"});
    ASSERT_TRUE(one.is_ok());
    EXPECT_EQ(one->positionals, std::vector<std::string>{"j_1"});
    EXPECT_TRUE(mentions(command_help(jobs_command()), "queued, running, done, failed"));
}

TEST(CommandTest, UsageErrorsOfLinksAndJobsExitTwoBeforeOpeningAnything) {
    // Usage errors are found before the data dir is opened (no --data-dir is given here).
    ParsedArgs no_cube;
    no_cube.positionals = {"n_1"};
    EXPECT_EQ(links_command().run(no_cube), kExitUsage);
    ParsedArgs two_notes;
    two_notes.values = {{"cube", "alice"}};
    two_notes.positionals = {"n_1", "n_2"};
    EXPECT_EQ(links_command().run(two_notes), kExitUsage);
    ParsedArgs two_jobs = two_notes;
    EXPECT_EQ(jobs_command().run(two_jobs), kExitUsage);
    ParsedArgs paged_one;
    paged_one.values = {{"cube", "alice"}, {"limit", "5"}};
    paged_one.positionals = {"j_1"};
    EXPECT_EQ(jobs_command().run(paged_one), kExitUsage);
}

TEST(CommandTest, ShowAndHistoryExplainTheNoteFields) {
    EXPECT_TRUE(mentions(command_help(show_command()), "superseded by"));
    EXPECT_TRUE(mentions(command_help(history_command()), "superseded"));
    EXPECT_TRUE(mentions(command_help(history_command()), "actor"));
}

}  // namespace
}  // namespace kasten::api
