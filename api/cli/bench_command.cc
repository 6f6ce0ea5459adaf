#include "api/cli/bench_command.h"

#include <sstream>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/cli/bench_append.h"
#include "api/cli/bench_embed.h"
#include "api/cli/bench_flags.h"
#include "api/cli/bench_http.h"
#include "api/cli/bench_kv.h"
#include "api/cli/bench_prefix.h"
#include "api/cli/bench_support.h"
#include "common/config.h"
#include "common/log.h"
#include "eval/synthetic_corpus.h"
#include "llm/decode_benchmark.h"
#include "llm/dot_kernels.h"
#include "llm/embedder_factory.h"
#include "memory/memory_manager.h"

namespace kasten::api {
namespace {

constexpr const char* kUsage = R"(usage: kasten bench search [options]
       kasten bench append [options]
       kasten bench http [options]
       kasten bench decode [options]
       kasten bench embed [options]

kasten bench search:

Builds one cube of N synthetic conversation turns (Zipfian vocabulary with per-session topics; user turns of
8-40 words, assistant turns of 30-120), measures the ingest rate through MemoryManager::add_messages (one call
per session), then runs Q queries against each retriever (lexical, vector, hybrid) and reports p50/p99 latency.
Then the under-ingest phase: the same Q queries again, hybrid only, while ingest threads keep adding new sessions
at full speed in the same process; it reports their p50/p99 and the ratio of that p99 to the idle
hybrid p99 (target <= 2: ingest should not stall searches). The writers add to another cube of the same
MemoryManager (--ingest-cube same: to the queried cube, which then grows by several times its size at full speed);
afterwards the queries run once more, idle (idle_after_*; with --ingest-cube same, on the grown cube, which
separates the cost of concurrent ingest from the cost of a larger cube). The writers' adds are bulk work: they run
as background adds (AddMessagesRequest::background, at the lowest CPU priority; --ingest-priority foreground runs
them on the writers' own threads at normal priority instead). Prints one JSON object and writes it to --out.

options:
  --turns N          number of turns (default 100000)
  --queries Q        queries per retriever (default 1000, at least 1000 for the reported percentiles)
  --top-k K          hits per query (default 10)
  --granularity G    turn | session (default turn)
  --threads T        ingest threads (default 2)
  --ingest-threads T threads adding sessions during the under-ingest phase (default 1, so that with the query
                     thread both cores are busy; 0 skips the phase)
  --no-search-helper each hybrid search on its own thread alone (default: its lexical and vector halves at once
                     when the helper thread is free)
  --ingest-cube C    other | same: the under-ingest phase adds to another cube of the same MemoryManager (default;
                     the queried cube keeps its size) or to the queried cube (which then grows during the phase)
  --ingest-priority P background | foreground: how the under-ingest phase's adds run (default background: bulk
                     adds on the manager's background lane, which yields the cores to searches)
  --embedder E       auto | glove | use | glove+use | hashing (default: from config, i.e. auto)
  --in-memory        an in-memory store (SQLite in memory, the in-memory lexical engine) instead of a temporary
                     on-disk data dir
  --out FILE         where to write the JSON (default bench-search.json)
  --json             print only the JSON (no progress on stderr)
  --seed S           corpus seed (default 42)

example:
  kasten bench search --turns 100000 --json --out bench-search.json

)";

constexpr const char* kDecodeUsage = R"(kasten bench decode:
Measures the embedded decoder: prompt-processing and generation tokens/s and weight bytes read per generated
token, for stories260K and for a synthetic model with SmolLM2-135M shapes (random weights, written to a
temporary directory), in F32, Q8_0 and Q4_0 with one and two threads, plus generation at 2k and 8k tokens of
context; and the machine's STREAM-style triad bandwidth, reporting each generation speed as a fraction of the
bandwidth limit. Short runs (a 64-token prompt, then 64 generated tokens) are repeated 3 times in fresh contexts
and report the mean tokens/s of the repetitions (each one is in the JSON), as llama-bench -r 3 does; long-context
runs are timed once. Takes about a minute. Prints a table on stderr (unless --json) and one JSON object on stdout,
and writes the JSON to --out.

options:
  --stories FILE     stories260K GGUF (default data/models/stories260K/stories260K-tok512.gguf; skipped when absent)
  --work-dir DIR     where the synthetic models are written (default: a temporary directory, removed afterwards)
  --keep-models      keep the written models
  --stories-only     skip the 135M-shaped model (quick)
  --out FILE         where to write the JSON (default bench-decode.json)
  --json             print only the JSON (no progress or table on stderr)

example:
  kasten bench decode --json --out bench-decode.json
)";

void print_usage(std::ostream& out) {
    out << kUsage << bench_append_usage() << "\n"
        << bench_http_usage() << "\n"
        << kDecodeUsage << "\n"
        << bench_kv_usage() << "\n"
        << bench_prefix_usage() << "\n"
        << bench_embed_usage();
}

nlohmann::json decode_report_to_json(const llm::DecodeBenchmarkReport& report) {
    nlohmann::json bandwidth = nlohmann::json::array();
    for (const auto& b : report.bandwidth) bandwidth.push_back({{"threads", b.threads}, {"gb_per_s", b.gb_per_s}});
    nlohmann::json runs = nlohmann::json::array();
    for (const auto& r : report.runs) {
        runs.push_back({{"model", r.model},
                        {"weight_type", r.weight_type},
                        {"threads", r.threads},
                        {"context", r.context},
                        {"prompt_tokens_per_s", r.prompt_tokens_per_s},
                        {"generate_tokens_per_s", r.generate_tokens_per_s},
                        {"prompt_tokens_per_s_each", r.prompt_tokens_per_s_each},
                        {"generate_tokens_per_s_each", r.generate_tokens_per_s_each},
                        {"weight_bytes_per_token", r.weight_bytes_per_token},
                        {"kv_bytes_per_token", r.kv_bytes_per_token},
                        {"bandwidth_limit_tokens_per_s", r.bandwidth_limit_tokens_per_s},
                        {"fraction_of_limit", r.fraction_of_limit}});
    }
    return {{"benchmark", "decode"},
            {"seconds", report.seconds},
            {"hardware_threads", std::thread::hardware_concurrency()},
            {"kernel_isa", llm::kernel_isa_name(llm::best_kernel_isa())},
            {"bandwidth", std::move(bandwidth)},
            {"runs", std::move(runs)}};
}

int run_bench_decode(int argc, char** argv) {
    std::string out_path = "bench-decode.json", stories = "data/models/stories260K/stories260K-tok512.gguf", work_dir;
    bool json_only = false, keep_models = false, stories_only = false, stories_given = false;
    for (int i = 2; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--help" || a == "-h") {
            print_usage(std::cout);
            return 0;
        } else if (a == "--json") {
            json_only = true;
        } else if (a == "--keep-models") {
            keep_models = true;
        } else if (a == "--stories-only") {
            stories_only = true;
        } else if (a == "--out" && i + 1 < argc) {
            out_path = argv[++i];
        } else if (a == "--stories" && i + 1 < argc) {
            stories = argv[++i];
            stories_given = true;
        } else if (a == "--work-dir" && i + 1 < argc) {
            work_dir = argv[++i];
        } else if ((a == "--data-dir" || a == "--config" || a == "--log-level" || a == "--embedder") && i + 1 < argc) {
            ++i;  // global flags: not used by this benchmark
        } else {
            std::cerr << "kasten bench decode: unknown or incomplete option '" << a << "'\n";
            print_usage(std::cerr);
            return 2;
        }
    }
    std::error_code ec;
    if (!std::filesystem::is_regular_file(stories, ec)) {
        if (stories_given) {
            std::cerr << "kasten bench decode: --stories: no such file: " << stories << "\n";
            return 1;
        }
        if (!json_only) std::cerr << "bench: " << stories << " not found: stories260K skipped\n";
        stories.clear();
    }
    if (stories_only && stories.empty()) {
        std::cerr << "kasten bench decode: --stories-only needs the stories260K GGUF (--stories FILE)\n";
        return 2;
    }
    const bool own_work_dir = work_dir.empty();
    if (own_work_dir) {
        work_dir =
            (std::filesystem::temp_directory_path() /
             ("kasten-bench-decode-" + std::to_string(std::chrono::steady_clock::now().time_since_epoch().count())))
                .string();
    }
    std::filesystem::create_directories(work_dir, ec);
    if (ec) {
        std::cerr << "kasten bench decode: cannot create " << work_dir << ": " << ec.message() << "\n";
        return 1;
    }

    llm::DecodeBenchmarkOptions options;
    options.stories_path = stories;
    options.work_dir = work_dir;
    options.keep_models = keep_models;
    options.include_135m = !stories_only;
    if (!json_only) options.progress = [](std::string_view line) { std::cerr << "bench: " << line << "\n"; };
    Result<llm::DecodeBenchmarkReport> report = llm::run_decode_benchmark(options);
    if (own_work_dir && !keep_models) std::filesystem::remove_all(work_dir, ec);
    if (!report.is_ok()) {
        std::cerr << "kasten bench decode: " << report.status().to_string() << "\n";
        return 1;
    }
    if (!json_only) std::cerr << report.value().to_text();
    const std::string text = decode_report_to_json(report.value()).dump(2);
    std::cout << text << std::endl;
    std::ofstream out(out_path);
    if (!out || !(out << text << "\n")) {
        std::cerr << "kasten bench decode: cannot write " << out_path << "\n";
        return 1;
    }
    if (!json_only) std::cerr << "written to " << out_path << "\n";
    return 0;
}

}  // namespace

int run_bench_command(int argc, char** argv) {
    // argv[0] = "bench"
    if (argc < 2 || std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "-h") == 0) {
        print_usage(std::cout);
        return argc < 2 ? 2 : 0;
    }
    if (std::strcmp(argv[1], "decode") == 0) return run_bench_decode(argc, argv);
    if (std::strcmp(argv[1], "kv") == 0) return run_bench_kv(argc, argv);
    if (std::strcmp(argv[1], "prefix") == 0) return run_bench_prefix(argc, argv);
    if (std::strcmp(argv[1], "embed") == 0) return run_bench_embed(argc, argv);
    if (std::strcmp(argv[1], "append") == 0) return run_bench_append(argc, argv);
    if (std::strcmp(argv[1], "http") == 0) return run_bench_http(argc, argv);
    if (std::strcmp(argv[1], "search") != 0) {
        std::cerr << "kasten bench: unknown benchmark '" << argv[1]
                  << "' (available: search, append, http, decode, kv, prefix, embed)\n";
        print_usage(std::cerr);
        return 2;
    }
    long long turns = 100000, queries = 1000, top_k = 10, threads = 2, seed = 42, ingest_threads = 1;
    std::string out_path = "bench-search.json", embedder_kind, granularity = "turn", ingest_cube_mode = "other",
                ingest_priority = "background";
    bool in_memory = false, json_only = false, no_search_helper = false;
    std::ostringstream usage;
    print_usage(usage);
    BenchFlags flags("bench search", usage.str());
    flags.toggle("--no-search-helper", &no_search_helper);
    flags.integer("--turns", &turns);
    flags.integer("--queries", &queries);
    flags.integer("--top-k", &top_k);
    flags.integer("--threads", &threads);
    flags.integer("--ingest-threads", &ingest_threads);
    flags.integer("--seed", &seed);
    flags.text("--embedder", &embedder_kind);
    flags.text("--ingest-cube", &ingest_cube_mode);
    flags.text("--ingest-priority", &ingest_priority);
    flags.text("--granularity", &granularity);
    flags.text("--out", &out_path);
    flags.toggle("--in-memory", &in_memory);
    flags.toggle("--json", &json_only);
    if (auto outcome = flags.parse(argc, argv, 2); outcome != BenchFlags::Outcome::kParsed) {
        return BenchFlags::exit_code(outcome);
    }
    if (turns < 1 || turns > 10000000 || queries < 1 || top_k < 1 || top_k > 1000 || threads < 1 || threads > 64 ||
        ingest_threads < 0 || ingest_threads > 64) {
        std::cerr << "kasten bench search: --turns 1..10000000, --queries >= 1, --top-k 1..1000, --threads 1..64, "
                     "--ingest-threads 0..64\n";
        return 2;
    }
    if (ingest_priority != "background" && ingest_priority != "foreground") {
        std::cerr << "kasten bench search: --ingest-priority must be background or foreground\n";
        return 2;
    }
    if (ingest_cube_mode != "other" && ingest_cube_mode != "same") {
        std::cerr << "kasten bench search: --ingest-cube must be other or same\n";
        return 2;
    }
    memory::Granularity gran;
    if (!memory::parse_granularity(granularity, &gran) || gran == memory::Granularity::kNote) {
        std::cerr << "kasten bench search: --granularity must be turn or session\n";
        return 2;
    }

    auto cfg = load_config(ConfigSources{std::nullopt, read_process_env(), {}});
    log::set_level(log::Level::kWarn);  // progress and results are printed here
    if (!cfg) {
        std::cerr << "kasten bench: " << cfg.status().to_string() << "\n";
        return 1;
    }
    if (embedder_kind.empty()) embedder_kind = cfg->embedder;
    auto emb = llm::create_embedder(embedder_kind, cfg->effective_glove_path(), cfg->hashing_dim,
                                    cfg->effective_use_path(), cfg->combined_weight);
    if (!emb) {
        std::cerr << "kasten bench: " << emb.status().to_string() << "\n";
        return 1;
    }
    std::shared_ptr<const llm::Embedder> embedder(std::move(emb).value());

    std::string tmp_dir;
    memory::MemoryOptions opts;
    opts.embedder = embedder;
    opts.in_memory = in_memory;
    opts.search_helper = !no_search_helper;
    if (!in_memory) {
        tmp_dir = (std::filesystem::temp_directory_path() /
                   ("kasten-bench-" + std::to_string(std::chrono::steady_clock::now().time_since_epoch().count())))
                      .string();
        opts.data_dir = tmp_dir;
    }
    auto mm_r = memory::MemoryManager::open(opts);
    if (!mm_r) {
        std::cerr << "kasten bench: " << mm_r.status().to_string() << "\n";
        return 1;
    }
    auto mm = std::move(mm_r).value();

    eval::SyntheticCorpus corpus(static_cast<std::uint64_t>(seed));
    auto sessions = corpus.generate(turns);
    std::vector<std::string> qs;
    qs.reserve(static_cast<size_t>(queries));
    for (long long i = 0; i < queries; ++i) qs.push_back(corpus.query());
    long long chars = 0;
    for (const auto& s : sessions)
        for (const auto& m : s.messages) chars += static_cast<long long>(m.content.size());
    if (!json_only) {
        std::cerr << "bench: " << turns << " turns in " << sessions.size() << " sessions (" << chars / turns
                  << " chars/turn), embedder " << embedder->id() << ", " << (in_memory ? "in memory" : tmp_dir) << "\n";
    }

    const std::string cube = "bench";
    const std::string kIngestCube = "bench-ingest";
    std::atomic<size_t> next{0};
    std::atomic<long long> done_turns{0};
    std::atomic<bool> failed{false};
    std::string first_error;
    std::mutex err_mu;
    auto t0 = std::chrono::steady_clock::now();
    auto worker = [&] {
        for (;;) {
            size_t i = next.fetch_add(1);
            if (i >= sessions.size() || failed) return;
            const auto& s = sessions[i];
            memory::AddMessagesRequest req;
            req.cube_id = cube;
            req.session_id = s.session_id;
            req.time = s.time_ms;
            req.actor = "bench";
            for (size_t k = 0; k < s.messages.size(); ++k) {
                req.messages.push_back(
                    {s.messages[k].role, s.messages[k].content, s.time_ms + static_cast<std::int64_t>(k) * 60000});
            }
            auto r = mm->add_messages(req);
            if (!r) {
                std::lock_guard<std::mutex> lock(err_mu);
                if (!failed.exchange(true)) first_error = r.status().to_string();
                return;
            }
            long long d = done_turns.fetch_add(static_cast<long long>(s.messages.size())) +
                          static_cast<long long>(s.messages.size());
            if (!json_only && (i % 500 == 0)) {
                double el = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
                std::fprintf(stderr, "\ringest %lld/%lld turns, %.0f turns/s   ", d, turns, d / std::max(el, 1e-9));
            }
        }
    };
    std::vector<std::thread> pool;
    for (long long i = 0; i < threads; ++i) pool.emplace_back(worker);
    for (auto& t : pool) t.join();
    if (failed) {
        std::cerr << "\nkasten bench: ingest failed: " << first_error << "\n";
        return 1;
    }
    Status fl = mm->flush();
    if (!fl.is_ok()) {
        std::cerr << "kasten bench: " << fl.to_string() << "\n";
        return 1;
    }
    double ingest_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (!json_only) std::fprintf(stderr, "\ringest done: %lld turns in %.2f s\n", turns, ingest_s);

    nlohmann::json result;
    result["benchmark"] = "search";
    result["search_helper"] = !no_search_helper;
    result["turns"] = turns;
    result["sessions"] = sessions.size();
    result["mean_chars_per_turn"] = chars / turns;
    result["embedder"] = embedder->id();
    result["storage"] = in_memory ? "in-memory" : "disk";
    result["ingest_threads"] = threads;
    result["ingest_seconds"] = ingest_s;
    result["ingest_turns_per_s"] = static_cast<double>(turns) / ingest_s;
    result["queries"] = queries;
    result["top_k"] = top_k;
    result["granularity"] = granularity;
    result["hardware_threads"] = std::thread::hardware_concurrency();

    // Side by side: query i runs against every retriever before query i+1, so machine noise hits all alike.
    const memory::Retriever kinds[] = {memory::Retriever::kLexical, memory::Retriever::kVector,
                                       memory::Retriever::kHybrid};
    std::vector<double> lat[3];
    // CPU time of the whole process per search (ms; the searching thread and any helper): on a busy machine it is
    // steadier than latency. The query phase runs alone (no ingest), so the process's time is the searches'.
    double cpu[3] = {0, 0, 0};
    long long hits_total[3] = {0, 0, 0};
    for (size_t qi = 0; qi < qs.size(); ++qi) {
        for (int r = 0; r < 3; ++r) {
            memory::SearchRequest req;
            req.cube_id = cube;
            req.query = qs[qi];
            req.top_k = static_cast<int>(top_k);
            req.retriever = kinds[r];
            req.granularity = gran;
            const double cpu0 = process_cpu_seconds();
            auto s0 = std::chrono::steady_clock::now();
            auto res = mm->search(req);
            double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - s0).count();
            if (!res) {
                std::cerr << "kasten bench: search failed: " << res.status().to_string() << "\n";
                return 1;
            }
            cpu[r] += 1000.0 * (process_cpu_seconds() - cpu0);
            hits_total[r] += static_cast<long long>(res->size());
            lat[r].push_back(ms);
        }
        if (!json_only && qi % 100 == 0) std::fprintf(stderr, "\rsearch %zu/%zu   ", qi, qs.size());
    }
    if (!json_only) std::fprintf(stderr, "\rsearch done            \n");
    for (int r = 0; r < 3; ++r) {
        double sum = 0;
        for (double v : lat[r]) sum += v;
        result["retrievers"][memory::retriever_name(kinds[r])] = {
            {"search_p50_ms", percentile(lat[r], 0.50)},
            {"search_p99_ms", percentile(lat[r], 0.99)},
            {"search_mean_ms", sum / static_cast<double>(lat[r].size())},
            {"search_cpu_mean_ms", cpu[r] / static_cast<double>(lat[r].size())},
            {"mean_hits", static_cast<double>(hits_total[r]) / static_cast<double>(lat[r].size())}};
    }

    // Under ingest: the hybrid queries again while ingest threads add new sessions (their own corpus seeds and
    // session ids) as fast as they can, until the last query has run: to another cube of the same manager by default
    // (the queried cube keeps its size, so only the interference is measured), or to the queried cube itself.
    if (ingest_threads > 0) {
        std::atomic<bool> stop_ingest{false};
        std::atomic<long long> ingested{0};
        std::atomic<int> started{0};
        std::string ingest_error;
        std::mutex ingest_mu;
        auto ingest = [&](int t) {
            eval::SyntheticCorpus extra(static_cast<std::uint64_t>(seed) * 1000 + 500 + static_cast<std::uint64_t>(t));
            const std::string prefix = "ingest" + std::to_string(t) + "-";
            const std::string& ingest_cube = ingest_cube_mode == "same" ? cube : kIngestCube;
            bool first = true;
            while (!stop_ingest.load()) {
                for (const auto& s : extra.generate(2000)) {
                    if (stop_ingest.load()) break;
                    memory::AddMessagesRequest req;
                    req.cube_id = ingest_cube;
                    req.session_id = prefix + s.session_id;
                    req.time = s.time_ms;
                    req.actor = "bench";
                    req.background = ingest_priority == "background";
                    for (size_t k = 0; k < s.messages.size(); ++k) {
                        req.messages.push_back({s.messages[k].role, s.messages[k].content,
                                                s.time_ms + static_cast<std::int64_t>(k) * 60000});
                    }
                    auto r = mm->add_messages(req);
                    if (!r) {
                        std::lock_guard<std::mutex> lock(ingest_mu);
                        if (ingest_error.empty()) ingest_error = r.status().to_string();
                        stop_ingest.store(true);
                        break;
                    }
                    ingested.fetch_add(static_cast<long long>(s.messages.size()));
                    if (first) {
                        started.fetch_add(1);
                        first = false;
                    }
                }
            }
            if (first) started.fetch_add(1);
        };
        std::vector<std::thread> writers;
        for (long long t = 0; t < ingest_threads; ++t) writers.emplace_back(ingest, static_cast<int>(t));
        // Queries start once every writer has stored its first session (ingest in full swing).
        while (started.load() < ingest_threads) std::this_thread::sleep_for(std::chrono::milliseconds(1));
        const long long ingested0 = ingested.load();
        const std::int64_t handoffs0 = mm->stats().search_helper_handoffs;
        auto hybrid_request = [&](const std::string& query) {
            memory::SearchRequest req;
            req.cube_id = cube;
            req.query = query;
            req.top_k = static_cast<int>(top_k);
            req.retriever = memory::Retriever::kHybrid;
            req.granularity = gran;
            return req;
        };
        std::vector<double> busy;
        busy.reserve(qs.size());
        const auto b0 = std::chrono::steady_clock::now();
        std::string search_error;
        for (size_t qi = 0; qi < qs.size() && search_error.empty(); ++qi) {
            const memory::SearchRequest req = hybrid_request(qs[qi]);
            auto s0 = std::chrono::steady_clock::now();
            auto res = mm->search(req);
            double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - s0).count();
            if (!res) {
                search_error = res.status().to_string();
                break;
            }
            busy.push_back(ms);
            if (!json_only && qi % 100 == 0) std::fprintf(stderr, "\rsearch under ingest %zu/%zu   ", qi, qs.size());
        }
        const double busy_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - b0).count();
        const long long ingested_during = ingested.load() - ingested0;
        const std::int64_t handoffs_during = mm->stats().search_helper_handoffs - handoffs0;
        stop_ingest.store(true);
        for (auto& w : writers) w.join();
        if (!search_error.empty() || !ingest_error.empty()) {
            std::cerr << "\nkasten bench: under-ingest phase failed: "
                      << (search_error.empty() ? "ingest: " + ingest_error : "search: " + search_error) << "\n";
            return 1;
        }
        // The cube grew while the queries ran: the same queries once more, idle, tell the growth from the ingest.
        std::vector<double> after;
        after.reserve(qs.size());
        for (size_t qi = 0; qi < qs.size(); ++qi) {
            const memory::SearchRequest req = hybrid_request(qs[qi]);
            auto s0 = std::chrono::steady_clock::now();
            auto res = mm->search(req);
            if (!res) {
                std::cerr << "\nkasten bench: search failed: " << res.status().to_string() << "\n";
                return 1;
            }
            after.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - s0).count());
        }
        double sum = 0;
        for (double v : busy) sum += v;
        const double idle_p99 = percentile(lat[2], 0.99);
        const double after_p99 = percentile(after, 0.99);
        const double busy_p99 = percentile(busy, 0.99);
        const double ratio = idle_p99 > 0 ? busy_p99 / idle_p99 : 0.0;
        result["under_ingest"] = {{"retriever", "hybrid"},
                                  {"ingest_threads", ingest_threads},
                                  {"ingest_cube", ingest_cube_mode},
                                  {"ingest_priority", ingest_priority},
                                  {"search_helper_handoffs", handoffs_during},
                                  {"queries", busy.size()},
                                  {"seconds", busy_s},
                                  {"turns_ingested", ingested_during},
                                  {"ingest_turns_per_s", static_cast<double>(ingested_during) / busy_s},
                                  {"search_p50_ms", percentile(busy, 0.50)},
                                  {"search_p99_ms", busy_p99},
                                  {"search_mean_ms", sum / static_cast<double>(busy.size())},
                                  {"idle_search_p50_ms", percentile(lat[2], 0.50)},
                                  {"idle_search_p99_ms", idle_p99},
                                  {"p99_ratio", ratio},
                                  {"target_p99_ratio", 2.0},
                                  {"within_target", ratio <= 2.0},
                                  {"cube_turns_after", ingest_cube_mode == "same" ? turns + ingested.load() : turns},
                                  {"idle_after_search_p50_ms", percentile(after, 0.50)},
                                  {"idle_after_search_p99_ms", after_p99},
                                  {"p99_ratio_to_idle_after", after_p99 > 0 ? busy_p99 / after_p99 : 0.0}};
        if (!json_only) {
            std::fprintf(stderr,
                         "\rhybrid under %s ingest (%lld thread%s, %.0f turns/s): p50 %.2f ms, p99 %.2f ms; idle p99 "
                         "%.2f ms; ratio %.2f (target <= 2); idle again after it (%lld turns): p99 %.2f ms\n",
                         ingest_priority.c_str(), ingest_threads, ingest_threads == 1 ? "" : "s",
                         static_cast<double>(ingested_during) / busy_s, percentile(busy, 0.50), busy_p99, idle_p99,
                         ratio, ingest_cube_mode == "same" ? turns + ingested.load() : turns, after_p99);
        }
    }
    mm.reset();
    if (!tmp_dir.empty()) {
        std::error_code ec;
        std::filesystem::remove_all(tmp_dir, ec);
    }
    std::string text = result.dump(2);
    std::cout << text << std::endl;
    std::ofstream out(out_path);
    if (!out || !(out << text << "\n")) {
        std::cerr << "kasten bench: cannot write " << out_path << "\n";
        return 1;
    }
    if (!json_only) std::cerr << "written to " << out_path << "\n";
    return 0;
}

}  // namespace kasten::api
