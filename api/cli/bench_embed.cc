#include "api/cli/bench_embed.h"

#include <algorithm>
#include <chrono>
#include <ctime>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/config.h"
#include "common/log.h"
#include "eval/synthetic_corpus.h"
#include "llm/embedder_factory.h"
#include "llm/use_lite_embedder.h"

namespace kasten::api {
namespace {

constexpr const char* kUsage = R"(kasten bench embed:
Sentence embedding throughput, GloVe SIF and Universal Sentence Encoder lite side by side on the same sentences
(N synthetic chat sentences of W words, deterministic). Passes: each embedder one sentence per embed() call on one
thread; the encoder also through embed_batch() (sentences of similar token counts run together) on one thread and
on T threads (the sentences split into T parts). Each pass reports wall and process CPU seconds. The encoder's
products are the best the CPU runs ("matmul": bfloat16 on AMX or AVX-512 BF16, else float32;
KASTEN_KERNEL_ISA=avx2 forces float32). Reports sentences/s and tokens per sentence; one JSON object on
stdout and in --out. An embedder whose file is missing is reported as skipped with the reason.

options:
  --sentences N      sentences (default 4000)
  --words W          words per sentence (default 15)
  --threads T        threads of the parallel pass (default 2)
  --batch-tokens K   tokens per encoder forward pass (default and at most 512, the encoder's limit)
  --seed S           text seed (default 42)
  --out FILE         where to write the JSON (default bench-embed.json)

example:
  kasten bench embed --sentences 4000 --words 15 --out bench-embed.json
)";

std::vector<std::string> make_sentences(int count, int words, std::uint64_t seed) {
    eval::SyntheticCorpus corpus(seed);
    std::vector<std::string> out;
    while (static_cast<int>(out.size()) < count) {
        for (const eval::SyntheticSession& session : corpus.generate(256)) {
            for (const eval::SyntheticMessage& m : session.messages) {
                std::istringstream in(m.content);
                std::string word, sentence;
                int n = 0;
                while (n < words && in >> word) {
                    if (n++) sentence += ' ';
                    sentence += word;
                }
                if (n == words && static_cast<int>(out.size()) < count) out.push_back(sentence);
            }
        }
    }
    return out;
}

double seconds_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// CPU seconds of the whole process (all threads): on a shared machine, sentences per CPU second show the code's
// cost apart from what other processes take of the cores.
double cpu_seconds() {
    return static_cast<double>(std::clock()) / CLOCKS_PER_SEC;
}

nlohmann::json pass(const std::string& name, std::size_t sentences, double seconds, double cpu, int threads) {
    return {{"pass", name},
            {"threads", threads},
            {"sentences", sentences},
            {"seconds", seconds},
            {"sentences_per_second", seconds > 0 ? static_cast<double>(sentences) / seconds : 0.0},
            {"cpu_seconds", cpu},
            {"sentences_per_cpu_second", cpu > 0 ? static_cast<double>(sentences) / cpu : 0.0}};
}

nlohmann::json one_by_one(const llm::Embedder& embedder, const std::vector<std::string>& sentences) {
    std::vector<float> out(static_cast<std::size_t>(embedder.dim()));
    const auto start = std::chrono::steady_clock::now();
    const double cpu_start = cpu_seconds();
    for (const std::string& s : sentences) embedder.embed(s, out);
    return pass("embed", sentences.size(), seconds_since(start), cpu_seconds() - cpu_start, 1);
}

nlohmann::json batched(const llm::UseLiteEmbedder& use, const std::vector<std::string>& sentences, int threads,
                       int batch_tokens) {
    std::vector<std::string_view> views(sentences.begin(), sentences.end());
    std::vector<float> out(views.size() * static_cast<std::size_t>(use.dim()));
    const std::size_t part = (views.size() + static_cast<std::size_t>(threads) - 1) / static_cast<std::size_t>(threads);
    const auto start = std::chrono::steady_clock::now();
    const double cpu_start = cpu_seconds();
    std::vector<std::thread> workers;
    for (int t = 0; t < threads; ++t) {
        const std::size_t begin = std::min(views.size(), part * static_cast<std::size_t>(t));
        const std::size_t end = std::min(views.size(), begin + part);
        workers.emplace_back([&, begin, end] {
            use.embed_batch(std::span<const std::string_view>(views).subspan(begin, end - begin),
                            std::span<float>(out).subspan(begin * static_cast<std::size_t>(use.dim())), batch_tokens);
        });
    }
    for (std::thread& w : workers) w.join();
    return pass("embed_batch", sentences.size(), seconds_since(start), cpu_seconds() - cpu_start, threads);
}

}  // namespace

const char* bench_embed_usage() {
    return kUsage;
}

int run_bench_embed(int argc, char** argv) {
    int sentences = 4000, words = 15, threads = 2, batch_tokens = llm::UseLiteEmbedder::kBatchTokens;
    std::uint64_t seed = 42;
    std::string out_path = "bench-embed.json";
    for (int i = 2; i < argc; ++i) {
        const std::string a = argv[i];
        auto next_int = [&](int lo, int hi, int* v) {
            if (i + 1 >= argc) return false;
            try {
                *v = std::stoi(argv[++i]);
            } catch (const std::exception&) {
                return false;
            }
            return *v >= lo && *v <= hi;
        };
        bool ok = true;
        if (a == "--help" || a == "-h") {
            std::cout << kUsage;
            return 0;
        } else if (a == "--sentences") {
            ok = next_int(1, 10000000, &sentences);
        } else if (a == "--words") {
            ok = next_int(1, 1000, &words);
        } else if (a == "--threads") {
            ok = next_int(1, 256, &threads);
        } else if (a == "--batch-tokens") {
            ok = next_int(1, 1 << 20, &batch_tokens);
        } else if (a == "--seed") {
            int s = 0;
            ok = next_int(0, 1 << 30, &s);
            seed = static_cast<std::uint64_t>(s);
        } else if (a == "--out" && i + 1 < argc) {
            out_path = argv[++i];
        } else {
            ok = false;
        }
        if (!ok) {
            std::cerr << "kasten bench embed: unknown, incomplete or out-of-range option '" << a << "'\n" << kUsage;
            return 2;
        }
    }
    auto cfg = load_config(ConfigSources{std::nullopt, read_process_env(), {}});
    if (!cfg) {
        std::cerr << "kasten bench embed: " << cfg.status().to_string() << "\n";
        return 1;
    }
    log::set_level(log::Level::kWarn);
    const std::vector<std::string> texts = make_sentences(sentences, words, seed);
    nlohmann::json report = {{"benchmark", "embed"},
                             {"sentences", texts.size()},
                             {"words_per_sentence", words},
                             {"hardware_threads", std::thread::hardware_concurrency()},
                             {"embedders", nlohmann::json::array()}};

    auto glove =
        llm::create_embedder("glove", cfg->effective_glove_path(), cfg->hashing_dim, cfg->effective_use_path());
    if (glove) {
        std::cerr << "glove: one by one...\n";
        report["embedders"].push_back({{"embedder", glove.value()->id()},
                                       {"passes", nlohmann::json::array({one_by_one(*glove.value(), texts)})}});
    } else {
        report["embedders"].push_back({{"embedder", "glove"}, {"skipped", glove.status().to_string()}});
    }
    Result<std::unique_ptr<llm::UseLiteEmbedder>> use = llm::UseLiteEmbedder::load(cfg->effective_use_path());
    if (use) {
        const llm::UseLiteEmbedder& e = *use.value();
        std::size_t tokens = 0;
        for (const std::string& t : texts) tokens += std::min<std::size_t>(e.tokenize(t).size(), 128);
        nlohmann::json passes = nlohmann::json::array();
        std::cerr << "use: one by one...\n";
        passes.push_back(one_by_one(e, texts));
        std::cerr << "use: batched, 1 thread...\n";
        passes.push_back(batched(e, texts, 1, batch_tokens));
        if (threads > 1) {
            std::cerr << "use: batched, " << threads << " threads...\n";
            passes.push_back(batched(e, texts, threads, batch_tokens));
        }
        report["embedders"].push_back(
            {{"embedder", e.id()},
             {"matmul", llm::use_lite_matmul_name(e.matmul())},
             {"tokens_per_sentence", static_cast<double>(tokens) / texts.size()},
             {"batch_tokens", std::min(batch_tokens, llm::UseLiteEmbedder::kMaxForwardTokens)},
             {"passes", passes}});
    } else {
        report["embedders"].push_back({{"embedder", "use"}, {"skipped", use.status().to_string()}});
    }
    const std::string text = report.dump(2);
    std::cout << text << "\n";
    std::ofstream out(out_path);
    out << text << "\n";
    if (!out) {
        std::cerr << "kasten bench embed: cannot write " << out_path << "\n";
        return 1;
    }
    return 0;
}

}  // namespace kasten::api
