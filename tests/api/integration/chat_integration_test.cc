// `kasten chat` driven through a pseudo-terminal, as a user at a terminal would: banner, streamed answers, slash
// commands, and the exchanges stored in the cube.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "tests/api/integration/kasten_process.h"

namespace kasten::api::testing {
namespace {

// A child process on a pseudo-terminal.
class PtyProcess {
  public:
    explicit PtyProcess(const std::vector<std::string>& args) {
        master_ = posix_openpt(O_RDWR | O_NOCTTY);
        if (master_ < 0 || grantpt(master_) != 0 || unlockpt(master_) != 0) return;
        const std::string slave_name = ptsname(master_);
        pid_ = fork();
        if (pid_ == 0) {
            setsid();
            const int slave = open(slave_name.c_str(), O_RDWR);
            if (slave < 0) _exit(127);
            termios t{};
            tcgetattr(slave, &t);
            t.c_lflag &= ~static_cast<tcflag_t>(ECHO);  // what the user types is not echoed back
            tcsetattr(slave, TCSANOW, &t);
            dup2(slave, 0);
            dup2(slave, 1);
            dup2(slave, 2);
            std::vector<char*> argv;
            for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
            argv.push_back(nullptr);
            setenv("TERM", "dumb", 1);
            execv(argv[0], argv.data());
            _exit(127);
        }
    }
    ~PtyProcess() {
        if (pid_ > 0) {
            kill(pid_, SIGKILL);
            waitpid(pid_, nullptr, 0);
        }
        if (master_ >= 0) close(master_);
    }
    bool ok() const { return master_ >= 0 && pid_ > 0; }

    // Reads until `needle` appears in the output after `from` (true) or the timeout passes (false).
    bool wait_for(const std::string& needle, size_t from = 0, int timeout_ms = 60000) {
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
        while (out_.find(needle, from) == std::string::npos) {
            const auto left =
                std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
            if (left.count() <= 0) return false;
            pollfd p{master_, POLLIN, 0};
            if (poll(&p, 1, static_cast<int>(left.count())) <= 0) return false;
            char buf[4096];
            const ssize_t n = read(master_, buf, sizeof buf);
            if (n <= 0) return out_.find(needle, from) != std::string::npos;
            out_.append(buf, static_cast<size_t>(n));
        }
        return true;
    }
    void type(const std::string& line) {
        const std::string s = line + "\r";
        ASSERT_EQ(write(master_, s.data(), s.size()), static_cast<ssize_t>(s.size()));
    }
    int wait_exit() {
        int status = 0;
        // Drain the output while waiting, so the child never blocks on a full terminal.
        for (int i = 0; i < 600; ++i) {
            wait_for("\x01never\x01", 0, 100);
            usleep(20000);
            if (waitpid(pid_, &status, WNOHANG) == pid_) {
                pid_ = -1;
                return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
            }
        }
        return -2;
    }
    const std::string& output() const { return out_; }

  private:
    int master_ = -1;
    pid_t pid_ = -1;
    std::string out_;
};

TEST(ChatIntegrationTest, ExtractiveChatThroughATerminalRemembersAndAnswersFromMemory) {
    TempDir dir("kasten-chat");
    PtyProcess chat({kasten_binary(), "chat", "--data-dir", dir.path(), "--embedder", "hashing", "--cube", "alice",
                     "--session", "first"});
    ASSERT_TRUE(chat.ok());
    ASSERT_TRUE(chat.wait_for("you> ")) << chat.output();
    const std::string& out = chat.output();
    EXPECT_NE(out.find("kasten chat · cube alice · session first"), std::string::npos) << out;
    EXPECT_NE(out.find("extractive, no model"), std::string::npos) << out;
    EXPECT_NE(out.find("embedder  hashing"), std::string::npos) << out;
    EXPECT_NE(out.find("notes     heuristic"), std::string::npos) << out;

    size_t mark = out.size();
    chat.type("My sister Clara lives in Porto and teaches violin.");
    ASSERT_TRUE(chat.wait_for("you> ", mark)) << out;
    EXPECT_NE(out.find("found nothing in memory", mark), std::string::npos) << out.substr(mark);

    mark = out.size();
    chat.type("/session new");
    ASSERT_TRUE(chat.wait_for("you> ", mark)) << out;
    EXPECT_NE(out.find("new session chat-", mark), std::string::npos) << out.substr(mark);

    mark = out.size();
    chat.type("Where does my sister Clara live?");
    ASSERT_TRUE(chat.wait_for("you> ", mark)) << out;
    const std::string answer = out.substr(mark);
    EXPECT_NE(answer.find("extractive answer"), std::string::npos) << answer;
    EXPECT_NE(answer.find("My sister Clara lives in Porto and teaches violin."), std::string::npos) << answer;

    mark = out.size();
    chat.type("/context");
    ASSERT_TRUE(chat.wait_for("you> ", mark)) << out;
    EXPECT_NE(out.find("### Session first", mark), std::string::npos) << out.substr(mark);

    mark = out.size();
    chat.type("/memories violin");
    ASSERT_TRUE(chat.wait_for("you> ", mark)) << out;
    EXPECT_NE(out.find("teaches violin", mark), std::string::npos) << out.substr(mark);

    mark = out.size();
    chat.type("/help");
    ASSERT_TRUE(chat.wait_for("you> ", mark)) << out;
    EXPECT_NE(out.find("/forget ID", mark), std::string::npos);

    chat.type("/quit");
    EXPECT_EQ(chat.wait_exit(), 0) << out;

    // Both user messages are in the cube; extractive answers are not.
    CommandResult turns = run_kasten(
        {"list", "--data-dir", dir.path(), "--embedder", "hashing", "--cube", "alice", "--what", "turns", "--json"});
    EXPECT_EQ(turns.exit_code, 0) << turns.err;
    EXPECT_NE(turns.out.find("My sister Clara lives in Porto"), std::string::npos) << turns.out;
    EXPECT_NE(turns.out.find("Where does my sister Clara live?"), std::string::npos) << turns.out;
    EXPECT_EQ(turns.out.find("extractive answer"), std::string::npos) << turns.out;
}

TEST(ChatIntegrationTest, EmbeddedModelStreamsAnAnswerThatIsStored) {
    TempDir dir("kasten-chat-model");
    PtyProcess chat({kasten_binary(), "chat", "--data-dir", dir.path(), "--embedder", "hashing", "--cube", "bob",
                     "--model", std::string(KASTEN_SOURCE_DIR) + "/data/models/stories260K/stories260K-tok512.gguf",
                     "--ctx", "512", "--session", "s1", "--no-history"});
    ASSERT_TRUE(chat.ok());
    ASSERT_TRUE(chat.wait_for("you> ")) << chat.output();
    EXPECT_NE(chat.output().find("gguf:stories260K"), std::string::npos) << chat.output();
    const size_t mark = chat.output().size();
    chat.type("Once upon a time there was a little dog.");
    ASSERT_TRUE(chat.wait_for("kasten> ", mark)) << chat.output();
    ASSERT_TRUE(chat.wait_for("you> ", mark)) << chat.output();
    chat.type("/quit");
    EXPECT_EQ(chat.wait_exit(), 0) << chat.output();
    CommandResult turns = run_kasten(
        {"list", "--data-dir", dir.path(), "--embedder", "hashing", "--cube", "bob", "--what", "turns", "--json"});
    EXPECT_EQ(turns.exit_code, 0) << turns.err;
    EXPECT_NE(turns.out.find("\"assistant\""), std::string::npos) << turns.out;  // the model's answer was stored
    EXPECT_NE(turns.out.find("little dog"), std::string::npos) << turns.out;
}

TEST(ChatIntegrationTest, PipedLinesWorkAndANewSessionRecallsTheOneBeforeIt) {
    TempDir dir("kasten-chat-pipe");
    const std::string input = dir.path() + "/input.txt";
    {
        std::ofstream f(input);
        f << "My sister Clara lives in Porto.\n/session new\nWhere does Clara live?\n";
    }
    // No --session: both sessions get generated ids, within the same second.
    CommandResult r = run_kasten({"chat", "--data-dir", dir.path(), "--embedder", "hashing", "--cube", "alice"}, input);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    const size_t asked = r.out.find("you> Where does Clara live?");
    ASSERT_NE(asked, std::string::npos) << r.out;
    EXPECT_NE(r.out.find("My sister Clara lives in Porto.", asked), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("bye"), std::string::npos);
}

}  // namespace
}  // namespace kasten::api::testing
