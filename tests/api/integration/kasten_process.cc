#include "tests/api/integration/kasten_process.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

extern char** environ;

namespace kasten::api::testing {
namespace {

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// Spawns kasten with stdout/stderr to files; returns the pid (-1 on failure).
pid_t spawn(const std::vector<std::string>& args, const std::string& stdin_path, const std::string& out_path,
            const std::string& err_path) {
    std::vector<std::string> argv_s = {kasten_binary()};
    argv_s.insert(argv_s.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : argv_s) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, stdin_path.empty() ? "/dev/null" : stdin_path.c_str(), O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&actions, 2, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    pid_t pid = -1;
    int rc = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    return rc == 0 ? pid : -1;
}

int exit_code_of(int wstatus) {
    return WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : -1;
}

std::string unique_name(const std::string& prefix) {
    static std::mt19937_64 rng{std::random_device{}()};
    std::ostringstream ss;
    ss << prefix << "-" << getpid() << "-" << std::hex << rng();
    return (std::filesystem::temp_directory_path() / ss.str()).string();
}

}  // namespace

std::string kasten_binary() {
    return std::string(KASTEN_BINARY_DIR) + "/kasten";
}

TempDir::TempDir(const std::string& prefix) : path_(unique_name(prefix)) {
    std::filesystem::create_directories(path_);
}

TempDir::~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
}

CommandResult run_kasten(const std::vector<std::string>& args, const std::string& stdin_path) {
    const std::string base = unique_name("kasten-cli");
    const std::string out_path = base + ".out", err_path = base + ".err";
    CommandResult r;
    pid_t pid = spawn(args, stdin_path, out_path, err_path);
    if (pid < 0) {
        r.err = "cannot start " + kasten_binary();
        return r;
    }
    int wstatus = 0;
    waitpid(pid, &wstatus, 0);
    r.exit_code = exit_code_of(wstatus);
    r.out = read_file(out_path);
    r.err = read_file(err_path);
    std::remove(out_path.c_str());
    std::remove(err_path.c_str());
    return r;
}

std::unique_ptr<KastenServer> KastenServer::start(const std::string& data_dir, const std::vector<std::string>& extra) {
    std::unique_ptr<KastenServer> s(new KastenServer());
    const std::string base = unique_name("kasten-serve");
    s->port_file_ = base + ".port";
    s->log_path_ = base + ".log";
    std::vector<std::string> args = {"serve",       "--host",      "127.0.0.1",  "--port", "0",
                                     "--port-file", s->port_file_, "--data-dir", data_dir, "--embedder",
                                     "hashing",     "--log-level", "info"};
    args.insert(args.end(), extra.begin(), extra.end());
    s->pid_ = spawn(args, "", base + ".stdout", s->log_path_);
    if (s->pid_ < 0) {
        ADD_FAILURE() << "cannot start " << kasten_binary();
        return nullptr;
    }
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (std::chrono::steady_clock::now() < deadline) {
        int wstatus = 0;
        if (waitpid(s->pid_, &wstatus, WNOHANG) == s->pid_) {
            s->pid_ = -1;
            ADD_FAILURE() << "kasten serve exited early (code " << exit_code_of(wstatus) << "):\n" << s->log();
            return nullptr;
        }
        std::string text = read_file(s->port_file_);
        if (!text.empty() && text.back() == '\n') {
            s->port_ = std::atoi(text.c_str());
            if (s->port_ > 0) return s;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    ADD_FAILURE() << "kasten serve did not write its port file in time:\n" << s->log();
    return nullptr;
}

KastenServer::~KastenServer() {
    kill_hard();
    std::remove(port_file_.c_str());
    std::remove(log_path_.c_str());
    std::remove((log_path_.substr(0, log_path_.size() - 4) + ".stdout").c_str());
}

void KastenServer::kill_hard() {
    if (pid_ <= 0) return;
    kill(pid_, SIGKILL);
    int wstatus = 0;
    waitpid(pid_, &wstatus, 0);
    pid_ = -1;
}

int KastenServer::stop() {
    if (pid_ <= 0) return -1;
    kill(pid_, SIGTERM);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (std::chrono::steady_clock::now() < deadline) {
        int wstatus = 0;
        if (waitpid(pid_, &wstatus, WNOHANG) == pid_) {
            pid_ = -1;
            return exit_code_of(wstatus);
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    kill_hard();
    return -1;
}

std::string KastenServer::log() const {
    return read_file(log_path_);
}

}  // namespace kasten::api::testing
