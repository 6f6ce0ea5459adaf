#include <pthread.h>
#include <signal.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <thread>

#include "api/cli/chat_setup.h"
#include "api/cli/command.h"
#include "api/cli/kv_cache_flags.h"
#include "api/cli/note_pipeline.h"
#include "api/cli/runtime.h"
#include "api/http/api_service.h"
#include "api/http/http_server.h"
#include "api/http/listen_policy.h"
#include "common/log.h"
#include "llm/embedded_language_model.h"
#include "memory/input_validation.h"

namespace kasten::api {
namespace {

constexpr const char* kName = "serve";

// Writes the port atomically (temp file + rename) so a reader never sees a partial number.
Status write_port_file(const std::string& path, int port) {
    const std::string tmp = path + ".tmp";
    {
        std::ofstream out(tmp, std::ios::trunc);
        out << port << "\n";
        out.flush();
        if (!out) return Status::io_error("cannot write the port file " + tmp);
    }
    std::error_code ec;
    std::filesystem::rename(tmp, path, ec);
    if (ec) return Status::io_error("cannot rename " + tmp + " to " + path + ": " + ec.message());
    return Status::ok();
}

int run_serve(const ParsedArgs& args) {
    if (!args.positionals.empty()) return usage_error(kName, "unexpected argument '" + args.positionals[0] + "'");
    std::map<std::string, std::string> flags;
    if (auto v = args.get("host")) flags["host"] = *v;
    if (auto v = args.get("port")) flags["port"] = *v;
    if (auto v = args.get("api-keys")) flags["api_keys"] = *v;
    if (auto v = args.get("threads")) flags["http_threads"] = *v;
    if (auto v = args.get("header-timeout")) flags["http_header_timeout_s"] = *v;
    if (auto v = args.get("body-timeout")) flags["http_body_timeout_s"] = *v;
    if (auto v = args.get("max-connections")) flags["http_max_connections"] = *v;
    if (auto v = args.get("max-connections-per-client")) flags["http_max_connections_per_client"] = *v;
    if (auto v = args.get("max-active-requests")) flags["http_max_active_requests"] = *v;
    llm::EmbeddedModelOptions model_options;
    if (auto v = args.get("model")) model_options.model_path = *v;
    if (auto v = args.get("ctx")) {
        if (model_options.model_path.empty()) return usage_error(kName, "--ctx goes with --model");
        Result<int> ctx = parse_int_flag("ctx", *v, 2, 1 << 20);
        if (!ctx.is_ok()) return usage_error(kName, ctx.status().message());
        model_options.n_ctx = ctx.value();
    }
    if (args.has("model") && model_options.model_path.empty()) return usage_error(kName, "--model needs a file");
    if (Status st = parse_kv_cache_flags(args, &model_options.kv_cache); !st.is_ok()) {
        return usage_error(kName, st.message());
    }
    if (auto v = args.get("mcp-cube"); v && !memory::validate_identifier("mcp-cube", *v).is_ok()) {
        return usage_error(kName, "--mcp-cube may contain only letters, digits and . _ : - (1 to 128 characters)");
    }
    Result<Config> loaded = load_cli_config(args, flags, /*serving=*/true);
    if (!loaded.is_ok()) return failure(kName, loaded.status());
    const Config& config = loaded.value();
    const bool auth = !config.api_keys.empty();
    if (!auth) {
        log::warn("no API keys configured: authentication is off, so kasten listens on loopback addresses only");
    }
    if (Status st = check_listen_address(config.host, auth); !st.is_ok()) {
        log::error("{}", st.message());
        return failure(kName, st);
    }

    // SIGINT/SIGTERM are taken by a dedicated thread (sigwait); every thread started from here inherits the mask.
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
    // A client that disconnects mid-response must not kill the server.
    signal(SIGPIPE, SIG_IGN);

    Result<std::shared_ptr<const llm::Embedder>> embedder = create_configured_embedder(config);
    if (!embedder.is_ok()) return failure(kName, embedder.status());
    log::info("embedder: {} (dim {})", embedder.value()->id(), embedder.value()->dim());

    // The model first: notes = llm builds notes with it. It is shared by the completion routes and the note job
    // thread (EmbeddedLanguageModel serialises its calls).
    std::shared_ptr<llm::EmbeddedLanguageModel> language_model;
    if (!model_options.model_path.empty()) {
        std::error_code ec;
        if (!std::filesystem::is_regular_file(model_options.model_path, ec)) {
            return failure(kName, Status::not_found("--model: no such file: " + model_options.model_path));
        }
        Result<std::unique_ptr<llm::EmbeddedLanguageModel>> opened = llm::EmbeddedLanguageModel::open(model_options);
        if (!opened.is_ok()) return failure(kName, opened.status());
        language_model = std::move(opened).value();
        log::info("language model: {} (context {} tokens)", language_model->id(), language_model->n_ctx());
        log::info("{}", describe_kv_cache(language_model->kv_cache()));
    }
    Result<NotePipeline> notes = make_note_pipeline(config.notes, language_model);
    if (!notes.is_ok()) {
        if (args.has("notes")) return usage_error(kName, "--notes llm needs --model FILE (a GGUF model)");
        return failure(kName, notes.status());
    }
    log::info("notes: {}", notes.value().enabled()
                               ? notes.value().description() + ", built by a background job after each add"
                               : std::string("off (no notes are built)"));

    OpenOptions open_options;
    open_options.background_jobs = true;
    Result<std::unique_ptr<memory::MemoryManager>> memory =
        open_memory(config, embedder.value(), notes.value(), open_options);
    if (!memory.is_ok()) return failure(kName, memory.status());
    log::info("data dir: {}", config.data_dir);

    Result<ChatSetup> chat = make_chat_setup(args, language_model, embedder.value());
    if (!chat.is_ok()) return usage_error(kName, chat.status().message());
    log::info("chat: {}; {} tokens of memory context per message", chat->description, chat->memory.context_budget);

    ApiServiceOptions service_options;
    service_options.language_model = chat->model.get();
    service_options.context_counter = chat->memory.counter;
    service_options.memory_chat = chat->memory;
    service_options.notes = notes.value().description();
    service_options.version = KASTEN_VERSION;
    service_options.data_dir = config.data_dir;
    service_options.embedder_dim = embedder.value()->dim();
    service_options.limits = {config.max_query_chars, config.max_top_k, config.max_content_chars};
    service_options.max_body_bytes = config.max_body_bytes;
    service_options.api_keys = config.api_keys;
    if (auto v = args.get("mcp-cube")) service_options.mcp_default_cube = *v;
    service_options.max_active_requests = effective_max_active_requests(config.http_max_active_requests);
    ApiService service(*memory.value(), service_options);
    log::info("authentication: {}", auth ? std::to_string(config.api_keys.size()) + " API key(s)" : "off");

    HttpServerOptions server_options{config.http_threads, config.max_body_bytes};
    server_options.header_timeout_s = config.http_header_timeout_s;
    server_options.body_timeout_s = config.http_body_timeout_s;
    server_options.max_connections = config.http_max_connections;
    server_options.max_connections_per_client = config.http_max_connections_per_client;
    HttpServer server(service, server_options);
    log::info(
        "connections: at most {} at once, {} per client address, {} doing memory work at once; read deadlines "
        "{} s (headers), {} s (body)",
        effective_max_connections(server_options),
        server_options.max_connections_per_client > 0 ? std::to_string(server_options.max_connections_per_client)
                                                      : std::string("no cap"),
        service_options.max_active_requests, server_options.header_timeout_s, server_options.body_timeout_s);
    Result<int> port = server.bind(config.host, config.port);
    if (!port.is_ok()) return failure(kName, port.status());
    if (auto port_file = args.get("port-file")) {
        if (Status st = write_port_file(*port_file, port.value()); !st.is_ok()) return failure(kName, st);
    }
    log::info("listening on {}", listen_url(config.host, port.value()));

    std::atomic<bool> served{false};
    std::thread stopper([&] {
        int sig = 0;
        sigwait(&stop_signals, &sig);
        if (served.load()) return;
        log::info("received {}: stopping (finishing requests in flight)", sig == SIGINT ? "SIGINT" : "SIGTERM");
        // A stop() racing with the start of listening can be missed: repeat until serve() returns.
        while (!served.load()) {
            server.stop();
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
    });
    Status serve_status = server.serve();
    served.store(true);
    pthread_kill(stopper.native_handle(), SIGTERM);  // wakes the stopper if no signal came
    stopper.join();

    Status flushed = memory.value()->flush();
    memory.value().reset();
    if (!flushed.is_ok()) {
        log::error("flushing the indexes failed: {}", flushed.message());
        return failure(kName, flushed);
    }
    if (!serve_status.is_ok()) return failure(kName, serve_status);
    log::info("stopped");
    return kExitOk;
}

}  // namespace

Command serve_command() {
    Command c;
    c.name = kName;
    c.summary = "Run the REST API server (docs/api.md).";
    c.usage =
        "kasten serve [--host H] [--port P] [--api-keys KEYS] [--port-file FILE] [--threads N] [--header-timeout S] "
        "[--body-timeout S] [--max-connections N] [--max-connections-per-client N] [--model FILE [--ctx N]] "
        "[--notes MODE] [global options]";
    c.details =
        "Serves the REST API on http://HOST:PORT (default 127.0.0.1:8420) from the data dir. Without API keys the\n"
        "server only listens on loopback addresses. --port 0 picks a free port; the bound port is written to\n"
        "--port-file and logged as 'listening on http://HOST:PORT'. SIGINT or SIGTERM stop it gracefully: requests in\n"
        "flight finish and the indexes are flushed. While it runs, other kasten commands cannot open the data dir.\n"
        "POST /v1/chat/completions (OpenAI-compatible, streaming or not) chats with memory (docs/chat.md): the cube\n"
        "comes from the X-Kasten-Cube header or the request's 'user' (cube user:<user>), the context is packed into\n"
        "the system message and the exchange is remembered. It answers with the embedded decoder (--model), a remote\n"
        "OpenAI-compatible server (--upstream URL --upstream-model M: kasten as a memory proxy in front of Ollama or a\n"
        "llama.cpp server) or, with neither, the extractive answerer (the best matching memories, marked as such;\n"
        "/v1/completions then answers 501).\n"
        "Each connection is served by one worker thread for its whole keep-alive life (up to 1000 requests, or 5 s\n"
        "idle), so --threads (config key http_threads, default 256) is how many clients are served at once; more\n"
        "connections wait for a free worker. Hostile clients are bounded: a request's line and headers must arrive\n"
        "within --header-timeout seconds (default 10) and its body within --body-timeout (default 60), else 408;\n"
        "at most --max-connections are served at once (default: threads minus an eighth, so free workers answer\n"
        "connections over a cap at once with 503 and Retry-After) and --max-connections-per-client from one IP\n"
        "address (default 64; 0 = no cap; raise it behind a reverse proxy). Range headers are ignored.\n"
        "Every add queues a note job that a background thread runs: the new turns become notes, linked to older\n"
        "ones, and notes they update are closed (GET /v1/jobs/{id} tells how it went). --notes (config key notes,\n"
        "KASTEN_NOTES) picks the builder: heuristic (default, no model), llm (the --model, one constrained-JSON\n"
        "call per batch and per link decision) or off. Jobs left queued by an earlier process run at start.\n"
        "POST /mcp serves the same memory to MCP clients (streamable HTTP, docs/mcp.md); tool calls that name no\n"
        "cube use --mcp-cube.";
    c.examples =
        "  kasten serve\n"
        "  kasten serve --data-dir /srv/kasten --port 8420\n"
        "  kasten serve --host 0.0.0.0 --api-keys 'key-for-alice=alice;key-for-admin=*'\n"
        "  kasten serve --port 0 --port-file /tmp/kasten.port --embedder hashing\n"
        "  kasten serve --model data/models/stories260K/stories260K-tok512.gguf --ctx 512\n"
        "  kasten serve --model my-instruct-model.gguf --notes llm\n"
        "  kasten serve --upstream http://127.0.0.1:11434/v1 --upstream-model llama3.2\n";
    c.flags = {
        {"host", "HOST", "address to listen on (default 127.0.0.1; non-loopback needs API keys)"},
        {"port", "PORT", "TCP port (default 8420; 0 = any free port)"},
        {"api-keys", "KEYS", "API keys and their cubes: 'key1=cubeA,cubeB;key2=*' (keys >= 8 characters)"},
        {"port-file", "FILE", "write the bound port to FILE once listening"},
        {"threads", "N", "HTTP worker threads = connections served at once (default 256, config key http_threads)"},
        {"header-timeout", "S", "seconds a request's line and headers may take (default 10; http_header_timeout_s)"},
        {"body-timeout", "S", "seconds a request body may take after the headers (default 60; http_body_timeout_s)"},
        {"max-connections", "N", "connections served at once (default 0 = threads - threads/8; http_max_connections)"},
        {"max-connections-per-client", "N",
         "connections from one IP address (default 64, 0 = no cap; http_max_connections_per_client)"},
        {"max-active-requests", "N",
         "requests doing memory work at once, the rest wait in arrival order (default 0 = 8 per CPU thread; "
         "http_max_active_requests)"},
        {"model", "FILE", "GGUF model for /v1/chat/completions and /v1/completions"},
        {"ctx", "N", "the model's context size in tokens (default 2048)"},
        {"notes", "MODE", "heuristic | llm | off: how notes are built (default heuristic; llm needs --model)"},
        {"mcp-cube", "C", "the cube MCP tool calls on /mcp use when they name none (default 'default')"},
    };
    for (auto& f : chat_setup_flags()) c.flags.push_back(std::move(f));
    for (auto& f : kv_cache_flags()) c.flags.push_back(std::move(f));
    c.run = run_serve;
    return c;
}

}  // namespace kasten::api
