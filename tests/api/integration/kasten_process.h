#pragma once

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

namespace kasten::api::testing {

// Path of the built `kasten` executable (KASTEN_BINARY_DIR/kasten).
std::string kasten_binary();

// A fresh empty directory under the system temp dir; removed by the caller (TempDir does it).
class TempDir {
  public:
    explicit TempDir(const std::string& prefix);
    ~TempDir();
    const std::string& path() const { return path_; }

  private:
    std::string path_;
};

struct CommandResult {
    int exit_code = -1;  // -1 when killed by a signal
    std::string out;
    std::string err;
};

// Runs `kasten args...` to completion with stdin from stdin_path ("" = /dev/null), capturing stdout and stderr.
CommandResult run_kasten(const std::vector<std::string>& args, const std::string& stdin_path = "");

// A `kasten serve` child process on 127.0.0.1 with --port 0, a --port-file, --embedder hashing and the given data
// dir. Killed (SIGKILL) on destruction if still running.
class KastenServer {
  public:
    // Starts the server and waits (up to 30 s) for the port file. Fails the test (and returns null) otherwise.
    static std::unique_ptr<KastenServer> start(const std::string& data_dir, const std::vector<std::string>& extra = {});
    ~KastenServer();

    int port() const { return port_; }
    pid_t pid() const { return pid_; }
    // SIGKILL and reap.
    void kill_hard();
    // SIGTERM and wait; returns the exit code (-1 when killed by a signal or on timeout).
    int stop();
    // Everything the server wrote to stderr so far.
    std::string log() const;

  private:
    KastenServer() = default;
    pid_t pid_ = -1;
    int port_ = 0;
    std::string log_path_;
    std::string port_file_;
};

}  // namespace kasten::api::testing
