#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include "api/cli/note_pipeline.h"
#include "api/http/api_service.h"
#include "api/http/http_server.h"
#include "common/config.h"
#include "common/result.h"
#include "llm/embedder.h"
#include "memory/memory_manager.h"

namespace kasten::api {

// What the benchmarks run against: the memory of `kasten serve` (the configured embedder and note pipeline, note
// jobs on a background thread) on a temporary data dir.
struct BenchMemory {
    Config config;  // config.data_dir is the temporary data dir
    std::shared_ptr<const llm::Embedder> embedder;
    NotePipeline notes;
    std::unique_ptr<memory::MemoryManager> memory;
};

// Loads the configuration like every command (environment, defaults; the embedder and notes settings overridden
// when `embedder` / `notes` are not empty), creates the embedder — GloVe is looked up in the configured data dir,
// not the temporary one — and opens `data_dir` with it. Sets the log level to warn.
Result<BenchMemory> open_bench_memory(const std::string& data_dir, const std::string& embedder,
                                      const std::string& notes);

// The REST stack of `kasten serve` (ApiService + HttpServer, the same options) in this process, on 127.0.0.1 and a
// free port, served by a background thread until destruction (requests in flight finish first).
class BenchServer {
  public:
    // `threads` <= 0: the configured http_threads; `max_active` <= 0: the configured http_max_active_requests (as
    // `kasten serve` resolves it).
    static Result<std::unique_ptr<BenchServer>> start(const BenchMemory& memory, int threads, int max_active = 0);
    ~BenchServer();
    BenchServer(const BenchServer&) = delete;
    BenchServer& operator=(const BenchServer&) = delete;

    int port() const { return port_; }
    int threads() const { return threads_; }
    int max_active_requests() const { return max_active_; }

  private:
    BenchServer(memory::MemoryManager& memory, ApiServiceOptions service_options, HttpServerOptions server_options);

    ApiService service_;
    HttpServer server_;
    int port_ = 0;
    int threads_ = 0;
    int max_active_ = 0;
    std::atomic<bool> served_{false};
    std::thread thread_;
};

}  // namespace kasten::api
