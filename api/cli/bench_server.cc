#include "api/cli/bench_server.h"

#include <chrono>

#include "api/cli/runtime.h"
#include "common/log.h"
#include "llm/embedder_factory.h"

namespace kasten::api {

Result<BenchMemory> open_bench_memory(const std::string& data_dir, const std::string& embedder,
                                      const std::string& notes) {
    ConfigSources sources;
    sources.env = read_process_env();
    if (!embedder.empty()) sources.flags["embedder"] = embedder;
    if (!notes.empty()) sources.flags["notes"] = notes;
    BenchMemory out;
    KASTEN_ASSIGN_OR_RETURN(out.config, load_config(sources));
    log::set_level(log::Level::kWarn);  // the benchmarks print their own progress
    KASTEN_ASSIGN_OR_RETURN(out.embedder, create_configured_embedder(out.config));
    KASTEN_ASSIGN_OR_RETURN(out.notes, make_note_pipeline(out.config.notes, nullptr));
    out.config.data_dir = data_dir;
    OpenOptions open_options;
    open_options.background_jobs = true;
    KASTEN_ASSIGN_OR_RETURN(out.memory, open_memory(out.config, out.embedder, out.notes, open_options));
    return out;
}

BenchServer::BenchServer(memory::MemoryManager& memory, ApiServiceOptions service_options,
                         HttpServerOptions server_options)
    : service_(memory, std::move(service_options)), server_(service_, server_options) {}

Result<std::unique_ptr<BenchServer>> BenchServer::start(const BenchMemory& memory, int threads, int max_active) {
    const Config& config = memory.config;
    ApiServiceOptions service_options;
    service_options.notes = memory.notes.description();
    service_options.version = KASTEN_VERSION;
    service_options.data_dir = config.data_dir;
    service_options.embedder_dim = memory.embedder->dim();
    service_options.limits = {config.max_query_chars, config.max_top_k, config.max_content_chars};
    service_options.max_body_bytes = config.max_body_bytes;
    service_options.max_active_requests =
        effective_max_active_requests(max_active > 0 ? max_active : config.http_max_active_requests);
    const int max_active_requests = service_options.max_active_requests;
    HttpServerOptions server_options{threads > 0 ? threads : config.http_threads, config.max_body_bytes};
    // The benchmark is the server's only client and all its connections come from 127.0.0.1: no per-address cap,
    // and connections beyond the workers wait for one (as before the caps) instead of being refused.
    server_options.max_connections = server_options.threads;
    server_options.max_connections_per_client = 0;
    std::unique_ptr<BenchServer> server(new BenchServer(*memory.memory, std::move(service_options), server_options));
    KASTEN_ASSIGN_OR_RETURN(server->port_, server->server_.bind("127.0.0.1", 0));
    server->threads_ = server_options.threads;
    server->max_active_ = max_active_requests;
    BenchServer* s = server.get();
    s->thread_ = std::thread([s] {
        Status st = s->server_.serve();
        if (!st.is_ok()) log::error("bench server: {}", st.message());
        s->served_.store(true);
    });
    return server;
}

BenchServer::~BenchServer() {
    // A stop() racing with the start of listening can be missed: repeat until serve() returns.
    while (!served_.load()) {
        server_.stop();
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    thread_.join();
}

}  // namespace kasten::api
