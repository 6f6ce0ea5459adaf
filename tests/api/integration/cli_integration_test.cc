// End-to-end tests of the `kasten` command line, run as a separate process.
#include <signal.h>

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/api/integration/http_client.h"
#include "tests/api/integration/kasten_process.h"

namespace kasten::api::testing {
namespace {

using nlohmann::json;

const std::vector<std::string> kCommands = {"serve",      "add",   "search", "list",   "show",   "history",
                                            "links",      "jobs",  "forget", "export", "import", "reindex",
                                            "embeddings", "bench", "mcp",    "chat",   "context"};

// kasten ARGS --data-dir DIR --embedder hashing
CommandResult kasten_in(const std::string& dir, std::vector<std::string> args) {
    args.insert(args.end(), {"--data-dir", dir, "--embedder", "hashing"});
    return run_kasten(args);
}

TEST(CliIntegrationTest, HelpForEveryCommand) {
    CommandResult top = run_kasten({"--help"});
    EXPECT_EQ(top.exit_code, 0);
    for (const auto& c : kCommands) EXPECT_NE(top.out.find("  " + c + " "), std::string::npos) << c;
    EXPECT_NE(top.out.find("Examples:"), std::string::npos);
    EXPECT_EQ(run_kasten({"help"}).out, top.out);
    for (const auto& c : kCommands) {
        SCOPED_TRACE(c);
        CommandResult a = run_kasten({"help", c});
        EXPECT_EQ(a.exit_code, 0) << a.err;
        EXPECT_NE(a.out.find("kasten " + c), std::string::npos);
        EXPECT_NE(a.out.find("xample"), std::string::npos) << a.out;
        CommandResult b = run_kasten({c, "--help"});
        EXPECT_EQ(b.exit_code, 0) << b.err;
        EXPECT_EQ(a.out, b.out);
    }
    EXPECT_NE(run_kasten({"help", "search"}).out.find("--top-k N"), std::string::npos);
    EXPECT_EQ(run_kasten({"--version"}).exit_code, 0);
}

TEST(CliIntegrationTest, UsageErrorsExitTwo) {
    TempDir dir("kasten-cli-usage");
    const std::vector<std::vector<std::string>> bad = {
        {},
        {"frobnicate"},
        {"--frobnicate", "list"},
        {"help", "frobnicate"},
        {"list", "--frobnicate"},
        {"search", "--cube"},
        {"search", "query", "--data-dir", dir.path()},
        {"search", "--cube", "c", "--top-k", "zero", "x", "--data-dir", dir.path()},
        {"search", "--cube", "c", "--min-score", "1.5", "x", "--data-dir", dir.path()},
        {"search", "--cube", "c", "--min-score", "high", "x", "--data-dir", dir.path()},
        {"add", "--cube", "c", "--data-dir", dir.path()},
        {"add", "--cube", "c", "--role", "robot", "hi", "--data-dir", dir.path()},
        {"forget", "--cube", "c", "--note", "n", "--turn", "t", "--data-dir", dir.path()},
        {"list", "--what", "everything", "--data-dir", dir.path()},
        {"embeddings", "convert"},
        {"serve", "--port", "99999", "--data-dir", dir.path()},
        {"add", "--cube", "c", "--notes", "sometimes", "hi", "--data-dir", dir.path()},
        {"links", "--cube", "c", "--data-dir", dir.path()},
        {"jobs", "--data-dir", dir.path()},
        {"search", "--cube", "c", "--as-of", "2023-02-01", "x", "--data-dir", dir.path()},
        {"eval", "locomo", "--data", "x.json", "--out", dir.path() + "/o", "--retriever", "hybrid+notes", "--notes",
         "llm"},
        {"eval", "locomo", "--data", "x.json", "--out", dir.path() + "/o", "--notes", "heuristic"},
    };
    for (const auto& args : bad) {
        std::string joined;
        for (const auto& a : args) joined += a + " ";
        SCOPED_TRACE(joined);
        CommandResult r = run_kasten(args);
        EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
        EXPECT_FALSE(r.err.empty());
    }
}

TEST(CliIntegrationTest, AddSearchListShowForgetExportImportReindex) {
    TempDir dir("kasten-cli-flow");
    const std::string d = dir.path();
    CommandResult add = kasten_in(d, {"add", "--cube", "alice", "--session", "trip", "--time", "2024-05-30T14:00:00Z",
                                      "I", "moved", "to", "Lisbon", "last", "spring"});
    ASSERT_EQ(add.exit_code, 0) << add.err;
    EXPECT_NE(add.out.find("added 1 turn(s) to cube alice, session trip"), std::string::npos) << add.out;

    const std::string messages = d + "/messages.json";
    std::ofstream(messages) << R"([{"role":"user","content":"My sister Ana plays the cello"},
                                   {"role":"assistant","content":"The cello is a beautiful instrument"}])";
    CommandResult add_file =
        kasten_in(d, {"add", "--cube", "alice", "--session", "music", "--file", messages, "--json"});
    ASSERT_EQ(add_file.exit_code, 0) << add_file.err;
    json added = json::parse(add_file.out);
    EXPECT_EQ(added["session_id"], "music");
    ASSERT_EQ(added["turn_ids"].size(), 2u);

    CommandResult search = kasten_in(d, {"search", "--cube", "alice", "--retriever", "lexical", "Lisbon", "spring"});
    ASSERT_EQ(search.exit_code, 0) << search.err;
    EXPECT_NE(search.out.find("  1. "), std::string::npos);
    EXPECT_NE(search.out.find("I moved to Lisbon last spring"), std::string::npos) << search.out;
    // Scores are calibrated: a query sharing nothing with the cube lists nothing under the default --min-score.
    CommandResult unrelated = kasten_in(d, {"search", "--cube", "alice", "quantum", "chromodynamics", "lattice"});
    ASSERT_EQ(unrelated.exit_code, 0) << unrelated.err;
    EXPECT_EQ(unrelated.out, "no results\n");
    CommandResult strict = kasten_in(d, {"search", "--cube", "alice", "--min-score", "1", "--json", "Lisbon", "cello"});
    ASSERT_EQ(strict.exit_code, 0) << strict.err;
    EXPECT_TRUE(json::parse(strict.out)["hits"].empty()) << strict.out;  // no unit has both words
    CommandResult search_json =
        kasten_in(d, {"search", "--cube", "alice", "--granularity", "session", "--top-k", "1", "--json", "cello"});
    ASSERT_EQ(search_json.exit_code, 0) << search_json.err;
    json hits = json::parse(search_json.out)["hits"];
    ASSERT_EQ(hits.size(), 1u);
    EXPECT_EQ(hits[0]["id"], "music");

    CommandResult cubes = kasten_in(d, {"list"});
    EXPECT_EQ(cubes.exit_code, 0);
    EXPECT_EQ(cubes.out.rfind("alice  ", 0), 0u) << cubes.out;
    CommandResult sessions = kasten_in(d, {"list", "--cube", "alice", "--json"});
    EXPECT_EQ(json::parse(sessions.out)["sessions"].size(), 2u);
    CommandResult turns = kasten_in(d, {"list", "--cube", "alice", "--what", "turns", "--limit", "2", "--json"});
    EXPECT_EQ(json::parse(turns.out)["turns"].size(), 2u);

    CommandResult show = kasten_in(d, {"show", "--cube", "alice"});
    EXPECT_EQ(show.exit_code, 0);
    EXPECT_NE(show.out.find("turns:    3"), std::string::npos) << show.out;
    CommandResult show_session = kasten_in(d, {"show", "--cube", "alice", "--session", "music"});
    EXPECT_NE(show_session.out.find("My sister Ana plays the cello"), std::string::npos) << show_session.out;
    CommandResult show_turn =
        kasten_in(d, {"show", "--cube", "alice", "--turn", added["turn_ids"][1].get<std::string>(), "--json"});
    EXPECT_EQ(json::parse(show_turn.out)["content"], "The cello is a beautiful instrument");
    CommandResult missing = kasten_in(d, {"show", "--cube", "alice", "--turn", "t_nope"});
    EXPECT_EQ(missing.exit_code, 1);
    EXPECT_NE(missing.err.find("not_found"), std::string::npos) << missing.err;

    const std::string out_file = d + "/alice.jsonl";
    CommandResult exported = kasten_in(d, {"export", "--cube", "alice", "--out", out_file});
    ASSERT_EQ(exported.exit_code, 0) << exported.err;
    CommandResult to_stdout = kasten_in(d, {"export", "--cube", "alice"});
    std::ifstream in(out_file);
    std::string first_line;
    std::getline(in, first_line);
    EXPECT_EQ(json::parse(first_line)["type"], "header");
    EXPECT_EQ(to_stdout.out.substr(0, first_line.size()), first_line);
    // Import keeps entity ids: into the same data dir that clashes with the original; elsewhere it works.
    CommandResult clash = kasten_in(d, {"import", "--cube", "alice-copy", "--in", out_file});
    EXPECT_EQ(clash.exit_code, 1);
    EXPECT_NE(clash.err.find("already_exists"), std::string::npos) << clash.err;
    TempDir other("kasten-cli-flow-copy");
    CommandResult imported = kasten_in(other.path(), {"import", "--cube", "alice-copy", "--in", out_file});
    ASSERT_EQ(imported.exit_code, 0) << imported.err;
    EXPECT_NE(imported.out.find("imported cube alice-copy: 2 sessions, 3 turns"), std::string::npos) << imported.out;
    CommandResult copied = kasten_in(other.path(), {"search", "--cube", "alice-copy", "--json", "cello"});
    EXPECT_FALSE(json::parse(copied.out)["hits"].empty()) << copied.out;
    CommandResult reindex = kasten_in(other.path(), {"reindex", "--cube", "alice-copy"});
    EXPECT_EQ(reindex.exit_code, 0) << reindex.err;
    EXPECT_NE(reindex.out.find("consistency: OK"), std::string::npos) << reindex.out;
    EXPECT_NE(reindex.err.find("100%"), std::string::npos) << reindex.err;

    CommandResult forget_turn =
        kasten_in(d, {"forget", "--cube", "alice", "--turn", added["turn_ids"][0].get<std::string>()});
    EXPECT_EQ(forget_turn.exit_code, 0) << forget_turn.err;
    EXPECT_NE(forget_turn.out.find("deleted turn"), std::string::npos);
    CommandResult forget_session = kasten_in(d, {"forget", "--cube", "alice", "--session", "trip"});
    EXPECT_NE(forget_session.out.find("deleted session trip (1 turns)"), std::string::npos) << forget_session.out;
    CommandResult after = kasten_in(d, {"search", "--cube", "alice", "--retriever", "lexical", "Lisbon"});
    EXPECT_EQ(after.out.find("Lisbon last spring"), std::string::npos) << after.out;

    CommandResult all = kasten_in(d, {"reindex", "--json"});
    EXPECT_EQ(json::parse(all.out)["consistency"]["consistent"], true);

    CommandResult forget_all = kasten_in(d, {"forget", "--cube", "alice", "--all"});
    EXPECT_NE(forget_all.out.find("deleted cube alice: 1 sessions, 1 turns"), std::string::npos) << forget_all.out;
    EXPECT_EQ(kasten_in(d, {"show", "--cube", "alice"}).exit_code, 1);
    CommandResult remaining = kasten_in(d, {"list", "--json"});
    EXPECT_TRUE(json::parse(remaining.out)["cubes"].empty()) << remaining.out;
}

TEST(CliIntegrationTest, HistoryOfANoteAndBusyDataDir) {
    signal(SIGPIPE, SIG_IGN);
    TempDir dir("kasten-cli-history");
    auto server = KastenServer::start(dir.path());
    ASSERT_TRUE(server);
    TestClient c(server->port());
    ASSERT_EQ(c.post("/v1/cubes", R"({"id":"h"})").status, 201);
    HttpReply note = c.post("/v1/cubes/h/memories", R"({"content":"Prefers green tea"})");
    ASSERT_EQ(note.status, 201);
    const std::string id = note.json()["id"];
    ASSERT_EQ(c.patch("/v1/cubes/h/memories/" + id, R"({"content":"Prefers black coffee"})").status, 200);

    // While the server holds the data dir, the CLI says so.
    CommandResult busy = kasten_in(dir.path(), {"list"});
    EXPECT_EQ(busy.exit_code, 1);
    EXPECT_NE(busy.err.find("kasten serve"), std::string::npos) << busy.err;
    EXPECT_NE(busy.err.find("busy"), std::string::npos) << busy.err;

    ASSERT_EQ(server->stop(), 0);
    CommandResult history = kasten_in(dir.path(), {"history", "--cube", "h", id});
    ASSERT_EQ(history.exit_code, 0) << history.err;
    EXPECT_NE(history.out.find("Prefers green tea"), std::string::npos) << history.out;
    EXPECT_NE(history.out.find("Prefers black coffee"), std::string::npos);
    CommandResult history_json = kasten_in(dir.path(), {"history", "--cube", "h", "--note", id, "--json"});
    EXPECT_GE(json::parse(history_json.out)["versions"].size(), 2u);
    CommandResult show = kasten_in(dir.path(), {"show", "--cube", "h", "--note", id});
    EXPECT_NE(show.out.find("Prefers black coffee"), std::string::npos) << show.out;
    CommandResult list_notes = kasten_in(dir.path(), {"list", "--cube", "h", "--what", "notes"});
    EXPECT_NE(list_notes.out.find(id), std::string::npos);
    CommandResult forget = kasten_in(dir.path(), {"forget", "--cube", "h", "--note", id});
    EXPECT_EQ(forget.exit_code, 0) << forget.err;
    EXPECT_EQ(kasten_in(dir.path(), {"history", "--cube", "h", id}).exit_code, 1);
}

TEST(CliIntegrationTest, AddBuildsNotesThenJobsLinksShowAndHistoryExplainThem) {
    TempDir dir("kasten-cli-notes");
    const std::string d = dir.path();
    CommandResult boston =
        kasten_in(d, {"add", "--cube", "a", "--session", "s1", "--time", "2023-01-10T12:00:00Z", "I live in Boston"});
    ASSERT_EQ(boston.exit_code, 0) << boston.err;
    EXPECT_NE(boston.out.find("built 1 note(s)"), std::string::npos) << boston.out;
    CommandResult denver = kasten_in(
        d, {"add", "--cube", "a", "--session", "s2", "--time", "2023-03-01T12:00:00Z", "--json", "I moved to Denver"});
    ASSERT_EQ(denver.exit_code, 0) << denver.err;
    json dj = json::parse(denver.out);
    ASSERT_TRUE(dj["job_id"].is_string()) << denver.out;
    EXPECT_EQ(dj["job"]["state"], "done");
    EXPECT_EQ(dj["job"]["result"]["superseded"], 1) << denver.out;

    json notes = json::parse(kasten_in(d, {"list", "--cube", "a", "--what", "notes", "--json"}).out)["notes"];
    ASSERT_EQ(notes.size(), 2u);
    std::string boston_id, denver_id;
    for (const auto& n : notes) (n["content"] == "I live in Boston" ? boston_id : denver_id) = n["id"];

    CommandResult jobs = kasten_in(d, {"jobs", "--cube", "a"});
    ASSERT_EQ(jobs.exit_code, 0) << jobs.err;
    EXPECT_NE(jobs.out.find(dj["job_id"].get<std::string>()), std::string::npos) << jobs.out;
    EXPECT_NE(jobs.out.find("superseded 1"), std::string::npos) << jobs.out;
    CommandResult one_job = kasten_in(d, {"jobs", "--cube", "a", dj["job_id"]});
    EXPECT_NE(one_job.out.find("\"superseded\": 1"), std::string::npos) << one_job.out;
    EXPECT_EQ(kasten_in(d, {"jobs", "--cube", "other", dj["job_id"]}).exit_code, 1);

    CommandResult links = kasten_in(d, {"links", "--cube", "a", denver_id});
    ASSERT_EQ(links.exit_code, 0) << links.err;
    EXPECT_NE(links.out.find("updates"), std::string::npos) << links.out;
    EXPECT_NE(links.out.find(boston_id), std::string::npos) << links.out;
    EXPECT_NE(links.out.find("I live in Boston"), std::string::npos) << links.out;

    CommandResult show = kasten_in(d, {"show", "--cube", "a", "--note", boston_id});
    EXPECT_NE(show.out.find("superseded"), std::string::npos) << show.out;
    EXPECT_NE(show.out.find("by " + denver_id), std::string::npos) << show.out;
    EXPECT_NE(show.out.find("2023-01-10T12:00:00Z .. 2023-03-01T12:00:00Z"), std::string::npos) << show.out;
    EXPECT_NE(show.out.find("strength:"), std::string::npos) << show.out;
    CommandResult history = kasten_in(d, {"history", "--cube", "a", boston_id});
    EXPECT_NE(history.out.find("2 version(s)"), std::string::npos) << history.out;
    EXPECT_NE(history.out.find("create  by scheduler"), std::string::npos) << history.out;
    EXPECT_NE(history.out.find("superseded: "), std::string::npos) << history.out;

    CommandResult as_of = kasten_in(d, {"search", "--cube", "a", "--granularity", "note", "--as-of", "2023-02-01",
                                        "--json", "where", "does", "the", "user", "live"});
    ASSERT_EQ(as_of.exit_code, 0) << as_of.err;
    EXPECT_EQ(json::parse(as_of.out)["hits"][0]["id"], boston_id) << as_of.out;

    CommandResult off = kasten_in(d, {"add", "--cube", "a", "--notes", "off", "I play the cello"});
    EXPECT_NE(off.out.find("notes: off"), std::string::npos) << off.out;
    CommandResult llm = kasten_in(d, {"add", "--cube", "a", "--notes", "llm", "I play the cello"});
    EXPECT_EQ(llm.exit_code, 1);
    EXPECT_NE(llm.err.find("kasten serve --model"), std::string::npos) << llm.err;
}

TEST(CliIntegrationTest, EmbeddingsImportGloveAndInfo) {
    TempDir dir("kasten-cli-glove");
    const std::string json_path = dir.path() + "/tiny-glove.json";
    // Three words, 3 dimensions, each vector followed by its L2 norm (index 3) and its row (index 4).
    std::ofstream(json_path) << R"({"dimensions":3,"size":3,"l2NormIndex":3,"wordIndex":4,
        "words":["tea","coffee","cello"],
        "vectors":{"tea":[1,0,0,1,0],"coffee":[0.6,0.8,0,1,1],"cello":[0,0,2,2,2]}})";
    CommandResult convert = run_kasten({"embeddings", "import-glove", "--json", json_path, "--data-dir", dir.path()});
    ASSERT_EQ(convert.exit_code, 0) << convert.out << convert.err;
    EXPECT_NE(convert.err.find("100%"), std::string::npos) << convert.err;
    EXPECT_TRUE(std::filesystem::exists(dir.path() + "/embeddings/glove-6b-100d.kvec"));
    CommandResult info = run_kasten({"embeddings", "info", "--data-dir", dir.path(), "--embedder", "glove"});
    EXPECT_EQ(info.exit_code, 0) << info.err;
    EXPECT_NE(info.out.find("(dim 3)"), std::string::npos) << info.out;
    CommandResult hashing = run_kasten({"embeddings", "info", "--data-dir", dir.path(), "--embedder", "hashing"});
    EXPECT_NE(hashing.out.find("active embedder:     hashing"), std::string::npos) << hashing.out;
    CommandResult missing =
        run_kasten({"embeddings", "import-glove", "--json", dir.path() + "/nope.json", "--data-dir", dir.path()});
    EXPECT_EQ(missing.exit_code, 1);
}

}  // namespace
}  // namespace kasten::api::testing
