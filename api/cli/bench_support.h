#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result.h"
#include "eval/synthetic_corpus.h"

namespace kasten::api {

// Small pieces the `kasten bench` benchmarks share (api/cli/bench_*.cc).

// The p-quantile (0..1) of `v`, interpolated between the two nearest ranks; 0 for an empty vector.
double percentile(std::vector<double> v, double p);

// Latency samples in milliseconds -> {"count", "p50_ms", "p90_ms", "p99_ms", "max_ms", "mean_ms"}.
nlohmann::json latency_summary(const std::vector<double>& ms);

// CPU time (seconds) the calling thread has used: steadier than wall time on a busy machine.
double thread_cpu_seconds();
// CPU time (seconds, user + system) of every thread of the process.
double process_cpu_seconds();

// Strict decimal integer ("12", "-3"); false on anything else.
bool parse_long(const char* s, long long* out);

// A fresh directory under the system temp dir, named PREFIX-<steady clock ticks>. kIOError when it cannot be made.
Result<std::string> make_bench_temp_dir(const std::string& prefix);
// Removes the directory and everything in it (best effort).
void remove_bench_temp_dir(const std::string& path);

// Prints the JSON on stdout and writes it to `path`; kIOError when the file cannot be written.
Status emit_bench_json(const nlohmann::json& result, const std::string& path);

// Chat-like user turns of an exact word count, deterministic for a seed: the vocabulary and topic mix of
// eval::SyntheticCorpus (its 3-8 word queries strung together and cut to length).
class TurnTextGenerator {
  public:
    explicit TurnTextGenerator(std::uint64_t seed) : corpus_(seed) {}
    std::string turn(int words);
    // A 3-8 word query drawn like the turns (eval::SyntheticCorpus::query).
    std::string query() { return corpus_.query(); }

  private:
    eval::SyntheticCorpus corpus_;
};

}  // namespace kasten::api
