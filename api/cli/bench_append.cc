#include "api/cli/bench_append.h"

#include <signal.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/cli/bench_flags.h"
#include "api/cli/bench_server.h"
#include "api/cli/bench_support.h"
#include "api/cli/http_load_client.h"

namespace kasten::api {
namespace {

constexpr const char* kUsage = R"(kasten bench append:
One session grows to N turns, one user turn (W words of synthetic chat text) per add, on a fresh temporary data dir
with the configured embedder and note pipeline (note jobs on a background thread, as `kasten serve` runs them).
The direct pass times MemoryManager::add_messages; the HTTP pass (--http) starts the REST server in this process
(127.0.0.1, a free port) on another fresh data dir and times POST /v1/cubes/{cube}/memories from one keep-alive
client. Reports per-add p50/p99 over windows of 100 adds ending at 100, 1000 and 10000 turns (the adds that took
the session from 0 to 100, 900 to 1000 and 9900 to 10000 turns; plus the last 100 when N is none of those), a
10-point p50 curve, and the ratio p50 of the last window / p50 of the first (target <= 1.5: the cost of an add
should not grow with the session). Table on stderr unless --json; one JSON object on stdout and in --out.

options:
  --turns N          turns in the session (default 10000, at least 100)
  --words W          words per turn (default 40)
  --http             also run the HTTP pass (after the direct one)
  --http-only        run only the HTTP pass
  --threads T        HTTP server threads (default: the http_threads setting)
  --embedder E       auto | glove | use | glove+use | hashing (default: from config, i.e. auto)
  --notes MODE       heuristic | off (default: from config, i.e. heuristic)
  --seed S           text seed (default 42)
  --out FILE         where to write the JSON (default bench-append.json)
  --json             print only the JSON (no progress or table on stderr)

example:
  kasten bench append --turns 10000 --http --out bench-append.json
)";

constexpr int kWindow = 100;
constexpr double kTargetRatio = 1.5;
const std::string kCube = "bench-append";
const std::string kSession = "append";

struct Pass {
    std::string name;  // direct | http
    std::vector<double> ms;
    double seconds = 0;
    std::string error;  // first failure; the pass stopped there
    std::int64_t connects = 0;
    std::int64_t retries = 0;
    std::string embedder;
    std::string notes;
    int server_threads = 0;
};

void progress(const Pass& p, size_t done, size_t total, bool quiet) {
    if (quiet || (done % 100 != 0 && done != total)) return;
    const size_t from = done >= kWindow ? done - kWindow : 0;
    std::vector<double> last(p.ms.begin() + static_cast<std::ptrdiff_t>(from),
                             p.ms.begin() + static_cast<std::ptrdiff_t>(done));
    std::fprintf(stderr, "\rappend (%s): %zu/%zu turns, p50 of the last %zu adds %.2f ms   ", p.name.c_str(), done,
                 total, last.size(), percentile(last, 0.5));
}

// One pass's MemoryManager on a fresh temporary data dir; closes it, then removes the dir.
struct PassStore {
    std::string dir;
    std::optional<BenchMemory> mem;
    PassStore() = default;
    PassStore(const PassStore&) = delete;
    PassStore& operator=(const PassStore&) = delete;
    ~PassStore() {
        mem.reset();
        if (!dir.empty()) remove_bench_temp_dir(dir);
    }
};

// Opens `store` for `pass` (recording its embedder and note pipeline); false with pass.error set when it cannot.
bool open_pass_store(const std::string& prefix, const std::string& embedder, const std::string& notes, Pass& pass,
                     PassStore& store) {
    Result<std::string> dir = make_bench_temp_dir(prefix);
    if (!dir.is_ok()) {
        pass.error = dir.status().to_string();
        return false;
    }
    store.dir = dir.value();
    Result<BenchMemory> mem = open_bench_memory(store.dir, embedder, notes);
    if (!mem.is_ok()) {
        pass.error = mem.status().to_string();
        return false;
    }
    store.mem.emplace(std::move(mem).value());
    pass.embedder = store.mem->embedder->id();
    pass.notes = store.mem->notes.description();
    return true;
}

Pass run_direct(const std::vector<std::string>& texts, const std::string& embedder, const std::string& notes,
                bool quiet) {
    Pass pass;
    pass.name = "direct";
    PassStore store;
    if (!open_pass_store("kasten-bench-append", embedder, notes, pass, store)) return pass;
    const auto t0 = std::chrono::steady_clock::now();
    for (size_t i = 0; i < texts.size(); ++i) {
        memory::AddMessagesRequest req;
        req.cube_id = kCube;
        req.session_id = kSession;
        req.actor = "bench";
        req.messages.push_back({"user", texts[i], std::nullopt});
        const auto s0 = std::chrono::steady_clock::now();
        auto r = store.mem->memory->add_messages(req);
        const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - s0).count();
        if (!r.is_ok()) {
            pass.error = "add " + std::to_string(i) + ": " + r.status().to_string();
            break;
        }
        pass.ms.push_back(ms);
        progress(pass, i + 1, texts.size(), quiet);
    }
    pass.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return pass;
}

Pass run_http(const std::vector<std::string>& texts, const std::string& embedder, const std::string& notes, int threads,
              bool quiet) {
    Pass pass;
    pass.name = "http";
    PassStore store;
    if (!open_pass_store("kasten-bench-append-http", embedder, notes, pass, store)) return pass;
    Result<std::unique_ptr<BenchServer>> server = BenchServer::start(*store.mem, threads);
    if (!server.is_ok()) {
        pass.error = server.status().to_string();
        return pass;
    }
    pass.server_threads = server.value()->threads();
    HttpLoadClient client("127.0.0.1", server.value()->port());
    const std::string target = "/v1/cubes/" + kCube + "/memories";
    const auto t0 = std::chrono::steady_clock::now();
    for (size_t i = 0; i < texts.size(); ++i) {
        nlohmann::json body = {{"session_id", kSession},
                               {"messages", nlohmann::json::array({{{"role", "user"}, {"content", texts[i]}}})}};
        const std::string text = body.dump();
        const auto s0 = std::chrono::steady_clock::now();
        auto r = client.request("POST", target, text);
        const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - s0).count();
        if (!r.is_ok()) {
            pass.error = "add " + std::to_string(i) + ": " + r.status().to_string();
            break;
        }
        if (r->status != 201) {
            pass.error =
                "add " + std::to_string(i) + ": HTTP " + std::to_string(r->status) + " " + r->body.substr(0, 300);
            break;
        }
        pass.ms.push_back(ms);
        progress(pass, i + 1, texts.size(), quiet);
    }
    pass.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    pass.connects = client.connects();
    pass.retries = client.retries();
    client.close();
    server.value().reset();  // the server goes before the memory it serves
    return pass;
}

// Window ends: 100, 1000, 10000 (those <= N), and N itself when it is none of them.
std::vector<size_t> window_ends(size_t n) {
    std::vector<size_t> ends;
    for (size_t e : {size_t{100}, size_t{1000}, size_t{10000}}) {
        if (e <= n) ends.push_back(e);
    }
    if (ends.empty() || ends.back() != n) ends.push_back(n);
    return ends;
}

nlohmann::json window_json(const std::vector<double>& ms, size_t end) {
    const size_t from = end >= kWindow ? end - kWindow : 0;
    std::vector<double> w(ms.begin() + static_cast<std::ptrdiff_t>(from),
                          ms.begin() + static_cast<std::ptrdiff_t>(end));
    double sum = 0;
    for (double v : w) sum += v;
    return {{"from", from},
            {"to", end},
            {"p50_ms", percentile(w, 0.5)},
            {"p99_ms", percentile(w, 0.99)},
            {"mean_ms", w.empty() ? 0.0 : sum / static_cast<double>(w.size())}};
}

nlohmann::json pass_json(const Pass& p) {
    nlohmann::json j;
    j["turns_added"] = p.ms.size();
    j["seconds"] = p.seconds;
    j["adds_per_s"] = p.seconds > 0 ? static_cast<double>(p.ms.size()) / p.seconds : 0.0;
    j["embedder"] = p.embedder;
    j["notes"] = p.notes;
    j["error"] = p.error.empty() ? nlohmann::json(nullptr) : nlohmann::json(p.error);
    if (p.name == "http") {
        j["server_threads"] = p.server_threads;
        j["connections_opened"] = p.connects;
        j["retries"] = p.retries;
    }
    j["windows"] = nlohmann::json::array();
    j["curve"] = nlohmann::json::array();
    j["p50_ratio"] = nullptr;
    j["within_target"] = nullptr;
    const size_t n = p.ms.size();
    if (n == 0) return j;
    for (size_t end : window_ends(n)) j["windows"].push_back(window_json(p.ms, end));
    for (int k = 1; k <= 10; ++k) {
        const size_t end = std::max<size_t>(1, n * static_cast<size_t>(k) / 10);
        nlohmann::json w = window_json(p.ms, end);
        j["curve"].push_back({{"to", end}, {"p50_ms", w["p50_ms"]}});
    }
    const auto& windows = j["windows"];
    if (windows.size() >= 2) {
        const double first = windows.front()["p50_ms"].get<double>();
        const double last = windows.back()["p50_ms"].get<double>();
        const double ratio = first > 0 ? last / first : 0.0;
        j["p50_ratio"] = ratio;
        j["p50_ratio_windows"] = "p50 [" + std::to_string(windows.back()["from"].get<size_t>()) + "," +
                                 std::to_string(windows.back()["to"].get<size_t>()) + ") / p50 [0," +
                                 std::to_string(windows.front()["to"].get<size_t>()) + ")";
        j["within_target"] = ratio <= kTargetRatio;
    }
    return j;
}

void print_table(const Pass& p, const nlohmann::json& j) {
    std::fprintf(stderr, "\rappend (%s): %zu turns in %.1f s (%.1f adds/s), embedder %s, notes %s%s\n", p.name.c_str(),
                 p.ms.size(), p.seconds, j["adds_per_s"].get<double>(), p.embedder.c_str(), p.notes.c_str(),
                 p.error.empty() ? "" : ", STOPPED EARLY");
    std::fprintf(stderr, "  %-16s %10s %10s %10s\n", "adds", "p50 ms", "p99 ms", "mean ms");
    for (const auto& w : j["windows"]) {
        const std::string range =
            "[" + std::to_string(w["from"].get<size_t>()) + "," + std::to_string(w["to"].get<size_t>()) + ")";
        std::fprintf(stderr, "  %-16s %10.2f %10.2f %10.2f\n", range.c_str(), w["p50_ms"].get<double>(),
                     w["p99_ms"].get<double>(), w["mean_ms"].get<double>());
    }
    if (!j["p50_ratio"].is_null()) {
        std::fprintf(stderr, "  %s = %.2f (target <= %.1f)\n", j["p50_ratio_windows"].get<std::string>().c_str(),
                     j["p50_ratio"].get<double>(), kTargetRatio);
    }
    if (!p.error.empty()) std::fprintf(stderr, "  error: %s\n", p.error.c_str());
}

}  // namespace

const char* bench_append_usage() {
    return kUsage;
}

int run_bench_append(int argc, char** argv) {
    long long turns = 10000, words = 40, seed = 42, threads = 0;
    std::string out_path = "bench-append.json", embedder, notes;
    bool json_only = false, direct = true, http = false;
    bool http_only = false;
    BenchFlags flags("bench append", kUsage);
    flags.integer("--turns", &turns);
    flags.integer("--words", &words);
    flags.integer("--seed", &seed);
    flags.integer("--threads", &threads);
    flags.toggle("--http", &http);
    flags.toggle("--http-only", &http_only);
    flags.toggle("--json", &json_only);
    flags.text("--embedder", &embedder);
    flags.text("--notes", &notes);
    flags.text("--out", &out_path);
    if (auto outcome = flags.parse(argc, argv, 2); outcome != BenchFlags::Outcome::kParsed) {
        return BenchFlags::exit_code(outcome);
    }
    if (http_only) {
        http = true;
        direct = false;
    }
    if (turns < 100 || turns > 1000000 || words < 1 || words > 5000 || threads < 0 || threads > 1024) {
        std::cerr << "kasten bench append: --turns 100..1000000, --words 1..5000, --threads 1..1024\n";
        return 2;
    }
    if (notes == "llm") {
        std::cerr << "kasten bench append: --notes llm needs a model; use heuristic or off\n";
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);

    TurnTextGenerator gen(static_cast<std::uint64_t>(seed));
    std::vector<std::string> texts;
    texts.reserve(static_cast<size_t>(turns));
    for (long long i = 0; i < turns; ++i) texts.push_back(gen.turn(static_cast<int>(words)));

    nlohmann::json result;
    result["benchmark"] = "append";
    result["turns"] = turns;
    result["words_per_turn"] = words;
    result["window"] = kWindow;
    result["target_p50_ratio"] = kTargetRatio;
    result["hardware_threads"] = std::thread::hardware_concurrency();
    result["passes"] = nlohmann::json::object();
    bool failed = false;
    std::vector<Pass> passes;
    if (direct) passes.push_back(run_direct(texts, embedder, notes, json_only));
    if (http) passes.push_back(run_http(texts, embedder, notes, static_cast<int>(threads), json_only));
    for (const Pass& p : passes) {
        nlohmann::json j = pass_json(p);
        if (!json_only) print_table(p, j);
        if (!p.error.empty()) failed = true;
        result["embedder"] = p.embedder;
        result["notes"] = p.notes;
        result["passes"][p.name] = std::move(j);
    }
    if (Status st = emit_bench_json(result, out_path); !st.is_ok()) {
        std::cerr << "kasten bench append: " << st.to_string() << "\n";
        return 1;
    }
    if (!json_only) std::cerr << "written to " << out_path << "\n";
    return failed ? 1 : 0;
}

}  // namespace kasten::api
