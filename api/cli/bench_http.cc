#include "api/cli/bench_http.h"

#include <signal.h>
#include <sys/resource.h>
#include <time.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/cli/bench_flags.h"
#include "api/cli/bench_server.h"
#include "api/cli/bench_support.h"
#include "api/cli/http_load_client.h"
#include "memory/memory_manager.h"

namespace kasten::api {
namespace {

constexpr const char* kUsage = R"(kasten bench http:
A load generator: C concurrent keep-alive HTTP/1.1 clients (one thread each, blocking sockets) against the REST
server, for S seconds. Each request is an add (POST /v1/cubes/{cube}/memories, one user turn of W words ending in
a unique marker word) or a search (POST /v1/cubes/{cube}/search with a 3-8 word query), on one of K cubes picked
at random. By default the server runs in this process (ApiService + HttpServer as `kasten serve` builds them, on
127.0.0.1, a free port and a fresh temporary data dir, with the configured embedder and note pipeline); --url
targets a running server instead. Before the load, --prefill adds turns to every cube (sessions of 10 turns).
Reports requests, errors (any non-2xx answer or socket error; the first few are printed), throughput and
p50/p90/p99/max latency, overall and per kind, and the CPU the load generator used. Afterwards every acknowledged
add is looked up: a lexical turn search for its marker in its cube must return its turn id ("missing" must be 0).
Table on stderr unless --json; one JSON object on stdout and in --out. Exit code 1 when an add is missing.

options:
  --clients C        concurrent keep-alive clients (default 200; at most 400 against the in-process server,
                     which shares this process's cores and threads with them; 2000 with --url)
  --seconds S        duration of the load (default 120)
  --cubes K          cubes the requests spread over (default 20)
  --add-percent P    share of adds in percent, the rest are searches (default 30)
  --words W          words per added turn, marker included (default 40)
  --prefill N        turns added to every cube before the load (default 100; 0 = none)
  --top-k K          hits per load search (default 10)
  --retriever R      lexical | vector | hybrid: the load searches (default hybrid)
  --healthz          every request is GET /healthz instead (transport overhead only; no verification)
  --no-verify        skip the check that acknowledged adds are searchable
  --threads T        in-process server threads (default: the http_threads setting)
  --max-active N     in-process server: requests doing memory work at once, the rest wait in arrival order
                     (default: the http_max_active_requests setting, 0 = 8 per CPU thread; N >= --threads
                     sets no effective limit)
  --url URL          target a running server, e.g. http://127.0.0.1:8420 (no temporary data dir; start it with
                     --max-connections-per-client above C, since every client comes from one address)
  --timeout-ms T     per-request socket timeout (default 30000)
  --embedder E       auto | glove | use | glove+use | hashing (in-process server; default: from config)
  --notes MODE       heuristic | off (in-process server; default: from config, i.e. heuristic)
  --seed S           text seed (default 42)
  --out FILE         where to write the JSON (default bench-http.json)
  --json             print only the JSON (no progress or table on stderr)

examples:
  kasten bench http --clients 200 --seconds 120 --out bench-http.json
  kasten bench http --healthz --clients 1 --seconds 5
  kasten bench http --url http://127.0.0.1:8420 --clients 50 --seconds 30
)";

struct Ack {
    int cube = 0;
    std::string marker;
    std::string turn_id;
};

struct ClientStats {
    std::vector<double> add_ms, search_ms;
    std::int64_t add_errors = 0, search_errors = 0;
    std::vector<Ack> acks;
    double cpu_s = 0;
    double connect_ms = 0;
    std::int64_t connects = 0, retries = 0;
};

struct ErrorLog {
    std::mutex mu;
    std::vector<std::string> first;
    void add(const std::string& e) {
        std::lock_guard<std::mutex> lock(mu);
        if (first.size() < 5) first.push_back(e);
    }
};

std::string base36(std::uint64_t v) {
    const char* digits = "0123456789abcdefghijklmnopqrstuvwxyz";
    std::string s;
    do {
        s.insert(s.begin(), digits[v % 36]);
        v /= 36;
    } while (v != 0);
    return s;
}

std::string describe(const Result<HttpClientResponse>& r) {
    if (!r.is_ok()) return r.status().to_string();
    return "HTTP " + std::to_string(r->status) + " " + r->body.substr(0, 200);
}

struct Settings {
    HttpEndpoint endpoint;
    long long clients = 200, seconds = 120, cubes = 20, add_percent = 30, words = 40, prefill = 100, top_k = 10;
    long long seed = 42, timeout_ms = 30000;
    std::string retriever = "hybrid";
    bool healthz = false, verify = true, json_only = false;
    std::string run_tag;  // makes cube ids and markers unique per run
    std::string cube_id(long long k) const { return "bench-http-" + run_tag + "-" + std::to_string(k); }
};

// Adds `prefill` turns to every cube (sessions of 10 user turns per request) from a few parallel clients.
Status prefill_cubes(const Settings& s, double* seconds) {
    const auto t0 = std::chrono::steady_clock::now();
    std::atomic<long long> next{0};
    const long long per_cube_requests = (s.prefill + 9) / 10;
    const long long total = per_cube_requests * s.cubes;
    std::mutex mu;
    Status failure = Status::ok();
    auto worker = [&](int w) {
        HttpLoadClient client(s.endpoint.host, s.endpoint.port, {static_cast<int>(s.timeout_ms)});
        TurnTextGenerator gen(static_cast<std::uint64_t>(s.seed) * 1000 + 900 + static_cast<std::uint64_t>(w));
        for (;;) {
            const long long i = next.fetch_add(1);
            if (i >= total) return;
            const long long cube = i % s.cubes, req = i / s.cubes;
            const long long n = std::min<long long>(10, s.prefill - req * 10);
            nlohmann::json msgs = nlohmann::json::array();
            for (long long k = 0; k < n; ++k)
                msgs.push_back({{"role", "user"}, {"content", gen.turn(static_cast<int>(s.words))}});
            nlohmann::json body = {{"session_id", "prefill-" + std::to_string(req)}, {"messages", std::move(msgs)}};
            auto r = client.request("POST", "/v1/cubes/" + s.cube_id(cube) + "/memories", body.dump());
            if (!r.is_ok() || r->status != 201) {
                std::lock_guard<std::mutex> lock(mu);
                if (failure.is_ok()) failure = Status::io_error("prefill add failed: " + describe(r));
                next.store(total);
                return;
            }
        }
    };
    std::vector<std::thread> pool;
    for (int w = 0; w < 4; ++w) pool.emplace_back(worker, w);
    for (auto& t : pool) t.join();
    *seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return failure;
}

void run_client(const Settings& s, int id, std::atomic<int>* ready, const std::atomic<bool>* go,
                std::chrono::steady_clock::time_point* deadline, std::atomic<std::uint64_t>* marker_counter,
                ErrorLog* errors, ClientStats* st) {
    HttpLoadClient client(s.endpoint.host, s.endpoint.port, {static_cast<int>(s.timeout_ms)});
    const auto c0 = std::chrono::steady_clock::now();
    Status connected = client.connect();
    st->connect_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - c0).count();
    if (!connected.is_ok()) errors->add("client " + std::to_string(id) + " connect: " + connected.to_string());
    ready->fetch_add(1);
    go->wait(false, std::memory_order_acquire);  // asleep until the start (no polling beside the server)
    const double cpu0 = thread_cpu_seconds();
    std::mt19937_64 rng(static_cast<std::uint64_t>(s.seed) * 7919 + static_cast<std::uint64_t>(id));
    std::uniform_int_distribution<long long> pick_cube(0, s.cubes - 1);
    std::uniform_int_distribution<int> pct(0, 99);
    TurnTextGenerator gen(static_cast<std::uint64_t>(s.seed) * 1000 + static_cast<std::uint64_t>(id));
    const std::string session = "client-" + std::to_string(id);
    const std::string query_tail =
        R"(,"top_k":)" + std::to_string(s.top_k) + R"(,"retriever":")" + s.retriever + R"(","granularity":"turn"})";
    while (std::chrono::steady_clock::now() < *deadline) {
        if (s.healthz) {
            const auto t0 = std::chrono::steady_clock::now();
            auto r = client.request("GET", "/healthz");
            const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
            if (r.is_ok() && r->status == 200) {
                st->search_ms.push_back(ms);
            } else {
                ++st->search_errors;
                errors->add("GET /healthz: " + describe(r));
            }
            continue;
        }
        const long long cube = pick_cube(rng);
        const bool add = pct(rng) < s.add_percent;
        if (add) {
            const std::string marker = "mk" + s.run_tag + "n" + std::to_string(marker_counter->fetch_add(1));
            std::string content = s.words > 1 ? gen.turn(static_cast<int>(s.words - 1)) + " " + marker : marker;
            nlohmann::json body = {
                {"session_id", session},
                {"messages", nlohmann::json::array({{{"role", "user"}, {"content", std::move(content)}}})}};
            const std::string target = "/v1/cubes/" + s.cube_id(cube) + "/memories";
            const std::string text = body.dump();
            const auto t0 = std::chrono::steady_clock::now();
            auto r = client.request("POST", target, text);
            const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
            std::string turn_id;
            if (r.is_ok() && r->status == 201) {
                auto j = nlohmann::json::parse(r->body, nullptr, false);
                if (j.is_object() && j.contains("turn_ids") && j["turn_ids"].is_array() && j["turn_ids"].size() == 1 &&
                    j["turn_ids"][0].is_string()) {
                    turn_id = j["turn_ids"][0].get<std::string>();
                }
            }
            if (!turn_id.empty()) {
                st->add_ms.push_back(ms);
                st->acks.push_back({static_cast<int>(cube), marker, std::move(turn_id)});
            } else {
                ++st->add_errors;
                errors->add("POST " + target + ": " + describe(r));
            }
        } else {
            nlohmann::json q = gen.query();
            const std::string text = R"({"query":)" + q.dump() + query_tail;
            const std::string target = "/v1/cubes/" + s.cube_id(cube) + "/search";
            const auto t0 = std::chrono::steady_clock::now();
            auto r = client.request("POST", target, text);
            const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
            // 404: the cube has no turn yet (no prefill, no add so far) -- still an error by the rule "any non-2xx".
            if (r.is_ok() && r->status == 200) {
                st->search_ms.push_back(ms);
            } else {
                ++st->search_errors;
                errors->add("POST " + target + ": " + describe(r));
            }
        }
    }
    st->cpu_s = thread_cpu_seconds() - cpu0;
    st->connects = client.connects();
    st->retries = client.retries();
}

struct VerifyResult {
    std::int64_t verified = 0, missing = 0, errors = 0;
    std::vector<std::string> first_missing;
    double seconds = 0;
};

VerifyResult verify_acks(const Settings& s, const std::vector<Ack>& acks) {
    VerifyResult out;
    const auto t0 = std::chrono::steady_clock::now();
    std::atomic<size_t> next{0};
    std::mutex mu;
    auto worker = [&] {
        HttpLoadClient client(s.endpoint.host, s.endpoint.port, {static_cast<int>(s.timeout_ms)});
        std::int64_t verified = 0, missing = 0, errors = 0;
        for (;;) {
            const size_t i = next.fetch_add(1);
            if (i >= acks.size()) break;
            const Ack& a = acks[i];
            nlohmann::json body = {{"query", a.marker},
                                   {"granularity", "turn"},
                                   {"retriever", "lexical"},
                                   {"top_k", 10},
                                   {"note_keys", false}};
            auto r = client.request("POST", "/v1/cubes/" + s.cube_id(a.cube) + "/search", body.dump());
            bool found = false;
            std::string problem;
            if (r.is_ok() && r->status == 200) {
                auto j = nlohmann::json::parse(r->body, nullptr, false);
                if (j.is_object() && j.contains("hits") && j["hits"].is_array()) {
                    for (const auto& h : j["hits"]) {
                        if (h.is_object() && h.contains("id") && h["id"] == a.turn_id) found = true;
                    }
                    if (!found) problem = "not in " + std::to_string(j["hits"].size()) + " hits";
                } else {
                    problem = "unreadable search answer";
                }
            } else {
                problem = describe(r);
                ++errors;
            }
            if (found) {
                ++verified;
            } else {
                ++missing;
                std::lock_guard<std::mutex> lock(mu);
                if (out.first_missing.size() < 10) {
                    out.first_missing.push_back(s.cube_id(a.cube) + " " + a.turn_id + " (" + a.marker +
                                                "): " + problem);
                }
            }
        }
        std::lock_guard<std::mutex> lock(mu);
        out.verified += verified;
        out.missing += missing;
        out.errors += errors;
    };
    std::vector<std::thread> pool;
    const int n = static_cast<int>(std::min<size_t>(4, std::max<size_t>(1, acks.size())));
    for (int i = 0; i < n; ++i) pool.emplace_back(worker);
    for (auto& t : pool) t.join();
    out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return out;
}

nlohmann::json kind_json(const std::vector<double>& ms, std::int64_t errors, double elapsed) {
    return {{"requests", static_cast<std::int64_t>(ms.size()) + errors},
            {"errors", errors},
            {"throughput_rps", elapsed > 0 ? static_cast<double>(ms.size()) / elapsed : 0.0},
            {"latency", latency_summary(ms)}};
}

void print_row(const char* kind, const nlohmann::json& k) {
    const auto& l = k["latency"];
    std::fprintf(stderr, "  %-8s %9lld %7lld %9.1f %9.2f %9.2f %9.2f %9.2f\n", kind, k["requests"].get<long long>(),
                 k["errors"].get<long long>(), k["throughput_rps"].get<double>(), l["p50_ms"].get<double>(),
                 l["p90_ms"].get<double>(), l["p99_ms"].get<double>(), l["max_ms"].get<double>());
}

}  // namespace

const char* bench_http_usage() {
    return kUsage;
}

int run_bench_http(int argc, char** argv) {
    Settings s;
    long long threads = 0;
    long long max_active = 0;
    std::string out_path = "bench-http.json", embedder, notes, url;
    BenchFlags flags("bench http", kUsage);
    flags.integer("--clients", &s.clients);
    flags.integer("--seconds", &s.seconds);
    flags.integer("--cubes", &s.cubes);
    flags.integer("--add-percent", &s.add_percent);
    flags.integer("--words", &s.words);
    flags.integer("--prefill", &s.prefill);
    flags.integer("--top-k", &s.top_k);
    flags.integer("--seed", &s.seed);
    flags.integer("--timeout-ms", &s.timeout_ms);
    flags.integer("--threads", &threads);
    flags.integer("--max-active", &max_active);
    flags.toggle("--healthz", &s.healthz);
    flags.toggle("--no-verify", &s.verify, /*when_given=*/false);
    flags.toggle("--json", &s.json_only);
    flags.text("--retriever", &s.retriever);
    flags.text("--url", &url);
    flags.text("--embedder", &embedder);
    flags.text("--notes", &notes);
    flags.text("--out", &out_path);
    if (auto outcome = flags.parse(argc, argv, 2); outcome != BenchFlags::Outcome::kParsed) {
        return BenchFlags::exit_code(outcome);
    }
    const long long max_clients = url.empty() ? 400 : 2000;
    memory::Retriever retriever_kind;
    if (s.clients < 1 || s.clients > max_clients || s.seconds < 1 || s.seconds > 86400 || s.cubes < 1 ||
        s.cubes > 10000 || s.add_percent < 0 || s.add_percent > 100 || s.words < 1 || s.words > 5000 || s.prefill < 0 ||
        s.prefill > 1000000 || s.top_k < 1 || s.top_k > 1000 || s.timeout_ms < 1 || threads < 0 || threads > 1024 ||
        max_active < 0 || max_active > 1024) {
        std::cerr << "kasten bench http: --clients 1.." << max_clients
                  << ", --seconds 1..86400, --cubes 1..10000, --add-percent 0..100, --words 1..5000, --prefill "
                     "0..1000000, --top-k 1..1000, --timeout-ms >= 1, --threads 1..1024, --max-active 0..1024\n";
        return 2;
    }
    if (!memory::parse_retriever(s.retriever, &retriever_kind)) {
        std::cerr << "kasten bench http: --retriever must be lexical, vector or hybrid\n";
        return 2;
    }
    if (notes == "llm") {
        std::cerr << "kasten bench http: --notes llm needs a model; use heuristic or off\n";
        return 2;
    }
    if (!url.empty() && (!embedder.empty() || !notes.empty() || threads != 0 || max_active != 0)) {
        std::cerr << "kasten bench http: --embedder, --notes, --threads and --max-active apply to the in-process "
                     "server, not --url\n";
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    // One descriptor per client (two in process: the server's end too): lift the soft limit to the hard one. The
    // installed cpp-httplib waits on sockets with poll(), so descriptors >= 1024 are served like any other.
    rlimit rl{};
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    s.run_tag = base36(static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
            .count()));

    std::string tmp_dir;
    std::optional<BenchMemory> mem;
    std::unique_ptr<BenchServer> server;
    nlohmann::json result;
    result["benchmark"] = "http";
    if (url.empty()) {
        Result<std::string> dir = make_bench_temp_dir("kasten-bench-http");
        if (!dir.is_ok()) {
            std::cerr << "kasten bench http: " << dir.status().to_string() << "\n";
            return 1;
        }
        tmp_dir = dir.value();
        Result<BenchMemory> opened = open_bench_memory(tmp_dir, embedder, notes);
        if (!opened.is_ok()) {
            std::cerr << "kasten bench http: " << opened.status().to_string() << "\n";
            remove_bench_temp_dir(tmp_dir);
            return 1;
        }
        mem = std::move(opened).value();
        Result<std::unique_ptr<BenchServer>> started =
            BenchServer::start(*mem, static_cast<int>(threads), static_cast<int>(max_active));
        if (!started.is_ok()) {
            std::cerr << "kasten bench http: " << started.status().to_string() << "\n";
            mem.reset();
            remove_bench_temp_dir(tmp_dir);
            return 1;
        }
        server = std::move(started).value();
        s.endpoint = {"127.0.0.1", server->port()};
        result["target"] = "in-process";
        result["server_threads"] = server->threads();
        result["server_max_active_requests"] = server->max_active_requests();
    } else {
        Result<HttpEndpoint> ep = parse_http_url(url);
        if (!ep.is_ok()) {
            std::cerr << "kasten bench http: --url: " << ep.status().message() << "\n";
            return 2;
        }
        s.endpoint = ep.value();
        result["target"] = url;
        result["server_threads"] = nullptr;
        result["server_max_active_requests"] = nullptr;
    }
    auto cleanup = [&] {
        server.reset();
        mem.reset();
        remove_bench_temp_dir(tmp_dir);
    };

    // Reachable? /healthz also names the server's embedder and note pipeline.
    {
        HttpLoadClient probe(s.endpoint.host, s.endpoint.port, {static_cast<int>(s.timeout_ms)});
        auto r = probe.request("GET", "/healthz");
        if (!r.is_ok() || r->status != 200) {
            std::cerr << "kasten bench http: GET /healthz on " << s.endpoint.host << ":" << s.endpoint.port
                      << " failed: " << describe(r) << "\n";
            cleanup();
            return 1;
        }
        auto h = nlohmann::json::parse(r->body, nullptr, false);
        result["embedder"] = h.is_object() && h.contains("embedder") ? h["embedder"] : nlohmann::json(nullptr);
        result["notes"] = h.is_object() && h.contains("notes") ? h["notes"] : nlohmann::json(nullptr);
    }
    result["mode"] = s.healthz ? "healthz" : "mix";
    result["clients"] = s.clients;
    result["seconds"] = s.seconds;
    result["cubes"] = s.cubes;
    result["add_percent"] = s.healthz ? 0 : s.add_percent;
    result["words_per_turn"] = s.words;
    result["top_k"] = s.top_k;
    result["retriever"] = s.retriever;
    result["hardware_threads"] = std::thread::hardware_concurrency();
    if (!s.json_only) {
        std::fprintf(stderr, "http: %lld clients, %lld s, %s, %s server on %s:%d%s\n", s.clients, s.seconds,
                     s.healthz ? "GET /healthz only"
                               : (std::to_string(s.cubes) + " cubes, " + std::to_string(s.add_percent) + "% add / " +
                                  std::to_string(100 - s.add_percent) + "% " + s.retriever + " search")
                                     .c_str(),
                     url.empty() ? "in-process" : "external", s.endpoint.host.c_str(), s.endpoint.port,
                     server ? (" (" + std::to_string(server->threads()) + " threads)").c_str() : "");
    }

    double prefill_s = 0;
    const long long prefill = s.healthz ? 0 : s.prefill;
    if (prefill > 0) {
        Settings ps = s;
        ps.prefill = prefill;
        if (!s.json_only) std::fprintf(stderr, "prefill: %lld turns in each of %lld cubes...\n", prefill, s.cubes);
        if (Status st = prefill_cubes(ps, &prefill_s); !st.is_ok()) {
            std::cerr << "kasten bench http: " << st.to_string() << "\n";
            cleanup();
            return 1;
        }
        if (!s.json_only) {
            std::fprintf(stderr, "prefill done: %lld turns in %.1f s\n", prefill * s.cubes, prefill_s);
        }
    }
    result["prefill_turns_per_cube"] = prefill;
    result["prefill_seconds"] = prefill_s;

    // The load: every client connects first, then all start together.
    std::vector<ClientStats> stats(static_cast<size_t>(s.clients));
    std::atomic<int> ready{0};
    std::atomic<bool> go{false};
    std::atomic<std::uint64_t> marker_counter{0};
    std::chrono::steady_clock::time_point deadline;
    ErrorLog errors;
    std::vector<std::thread> pool;
    pool.reserve(static_cast<size_t>(s.clients));
    for (long long c = 0; c < s.clients; ++c) {
        pool.emplace_back(run_client, std::cref(s), static_cast<int>(c), &ready, &go, &deadline, &marker_counter,
                          &errors, &stats[static_cast<size_t>(c)]);
    }
    while (ready.load() < s.clients) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    const double cpu0 = process_cpu_seconds();
    const memory::ManagerStats stats0 = mem ? mem->memory->stats() : memory::ManagerStats{};
    const auto t0 = std::chrono::steady_clock::now();
    deadline = t0 + std::chrono::seconds(s.seconds);
    go.store(true, std::memory_order_release);
    go.notify_all();
    if (!s.json_only) {
        while (std::chrono::steady_clock::now() < deadline) {
            std::this_thread::sleep_for(std::chrono::seconds(1));
            const double el = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
            std::fprintf(stderr, "\rload: %.0f/%lld s   ", el, s.seconds);
        }
    }
    for (auto& t : pool) t.join();
    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const double process_cpu = process_cpu_seconds() - cpu0;
    const memory::ManagerStats stats1 = mem ? mem->memory->stats() : memory::ManagerStats{};

    std::vector<double> add_ms, search_ms, all_ms;
    std::int64_t add_errors = 0, search_errors = 0, connects = 0, retries = 0;
    double client_cpu = 0, connect_max = 0;
    std::vector<Ack> acks;
    for (auto& st : stats) {
        add_ms.insert(add_ms.end(), st.add_ms.begin(), st.add_ms.end());
        search_ms.insert(search_ms.end(), st.search_ms.begin(), st.search_ms.end());
        add_errors += st.add_errors;
        search_errors += st.search_errors;
        connects += st.connects;
        retries += st.retries;
        client_cpu += st.cpu_s;
        connect_max = std::max(connect_max, st.connect_ms);
        for (auto& a : st.acks) acks.push_back(std::move(a));
    }
    all_ms = add_ms;
    all_ms.insert(all_ms.end(), search_ms.begin(), search_ms.end());
    const std::int64_t total_errors = add_errors + search_errors;
    result["elapsed_seconds"] = elapsed;
    result["requests"] = static_cast<std::int64_t>(all_ms.size()) + total_errors;
    result["errors"] = total_errors;
    result["throughput_rps"] = static_cast<double>(all_ms.size()) / elapsed;
    result["latency"] = latency_summary(all_ms);
    if (s.healthz) {
        result["kinds"] = {{"healthz", kind_json(search_ms, search_errors, elapsed)}};
    } else {
        result["kinds"] = {{"add", kind_json(add_ms, add_errors, elapsed)},
                           {"search", kind_json(search_ms, search_errors, elapsed)}};
    }
    result["first_errors"] = errors.first;
    result["connections_opened"] = connects;
    result["retries"] = retries;
    result["connect_max_ms"] = connect_max;
    result["load_generator_cpu_seconds"] = client_cpu;
    result["process_cpu_seconds"] = process_cpu;
    // The background work the load left room for (in process): note jobs run and notes built during the load.
    if (mem) {
        result["note_jobs_done_during_load"] = stats1.note_jobs_done - stats0.note_jobs_done;
        result["notes_built_during_load"] = stats1.notes_built - stats0.notes_built;
        // What the searches found in the hit cache during the load, and its size at the end.
        result["hit_cache"] = {{"hits", stats1.hit_cache_hits - stats0.hit_cache_hits},
                               {"misses", stats1.hit_cache_misses - stats0.hit_cache_misses},
                               {"bytes", stats1.hit_cache_bytes},
                               {"entries", stats1.hit_cache_entries}};
    } else {
        result["note_jobs_done_during_load"] = nullptr;
        result["notes_built_during_load"] = nullptr;
        result["hit_cache"] = nullptr;
    }
    if (!s.json_only) {
        std::fprintf(stderr, "\r%lld clients for %.1f s: %lld requests, %lld errors, %.1f req/s\n", s.clients, elapsed,
                     result["requests"].get<long long>(), static_cast<long long>(total_errors),
                     result["throughput_rps"].get<double>());
        std::fprintf(stderr, "  %-8s %9s %7s %9s %9s %9s %9s %9s\n", "kind", "requests", "errors", "req/s", "p50 ms",
                     "p90 ms", "p99 ms", "max ms");
        print_row("all", kind_json(all_ms, total_errors, elapsed));
        for (const auto& [kind, k] : result["kinds"].items()) print_row(kind.c_str(), k);
        for (const auto& e : errors.first) std::fprintf(stderr, "  error: %s\n", e.c_str());
        std::fprintf(stderr, "  connections opened %lld (retries %lld), slowest connect %.1f ms\n",
                     static_cast<long long>(connects), static_cast<long long>(retries), connect_max);
        std::fprintf(stderr, "  load generator CPU %.1f s of %.1f s used by this process (%.0f%%; %u cores x %.0f s)\n",
                     client_cpu, process_cpu, process_cpu > 0 ? 100.0 * client_cpu / process_cpu : 0.0,
                     std::thread::hardware_concurrency(), elapsed);
        if (mem) {
            std::fprintf(stderr, "  during the load: %lld note jobs run, %lld notes built\n",
                         static_cast<long long>(stats1.note_jobs_done - stats0.note_jobs_done),
                         static_cast<long long>(stats1.notes_built - stats0.notes_built));
            const auto hits = stats1.hit_cache_hits - stats0.hit_cache_hits;
            const auto misses = stats1.hit_cache_misses - stats0.hit_cache_misses;
            std::fprintf(
                stderr, "  hit cache: %lld of %lld lookups found (%.1f%%), %.1f MiB in %lld entries\n",
                static_cast<long long>(hits), static_cast<long long>(hits + misses),
                hits + misses > 0 ? 100.0 * static_cast<double>(hits) / static_cast<double>(hits + misses) : 0.0,
                static_cast<double>(stats1.hit_cache_bytes) / (1 << 20),
                static_cast<long long>(stats1.hit_cache_entries));
        }
    }

    bool lost = false;
    if (s.verify && !s.healthz) {
        if (!s.json_only) std::fprintf(stderr, "verify: searching for %zu acknowledged adds...\n", acks.size());
        VerifyResult v = verify_acks(s, acks);
        result["verify"] = {{"acknowledged", acks.size()}, {"verified", v.verified},
                            {"missing", v.missing},        {"errors", v.errors},
                            {"seconds", v.seconds},        {"first_missing", v.first_missing}};
        lost = v.missing > 0;
        if (!s.json_only) {
            std::fprintf(stderr,
                         "verify: %zu acknowledged adds, %lld found, %lld missing (%lld search errors), %.1f s\n",
                         acks.size(), static_cast<long long>(v.verified), static_cast<long long>(v.missing),
                         static_cast<long long>(v.errors), v.seconds);
            for (const auto& m : v.first_missing) std::fprintf(stderr, "  missing: %s\n", m.c_str());
        }
    } else {
        result["verify"] = nullptr;
    }
    cleanup();
    if (Status st = emit_bench_json(result, out_path); !st.is_ok()) {
        std::cerr << "kasten bench http: " << st.to_string() << "\n";
        return 1;
    }
    if (!s.json_only) std::cerr << "written to " << out_path << "\n";
    return lost ? 1 : 0;
}

}  // namespace kasten::api
