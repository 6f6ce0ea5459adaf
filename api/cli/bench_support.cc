#include "api/cli/bench_support.h"

#include <sys/resource.h>
#include <time.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>

namespace kasten::api {

double percentile(std::vector<double> v, double p) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    double idx = p * static_cast<double>(v.size() - 1);
    size_t lo = static_cast<size_t>(idx);
    size_t hi = std::min(lo + 1, v.size() - 1);
    double frac = idx - static_cast<double>(lo);
    return v[lo] * (1 - frac) + v[hi] * frac;
}

nlohmann::json latency_summary(const std::vector<double>& ms) {
    double sum = 0, max = 0;
    for (double v : ms) {
        sum += v;
        max = std::max(max, v);
    }
    std::vector<double> sorted = ms;
    std::sort(sorted.begin(), sorted.end());
    return {{"count", ms.size()},
            {"p50_ms", percentile(sorted, 0.50)},
            {"p90_ms", percentile(sorted, 0.90)},
            {"p99_ms", percentile(sorted, 0.99)},
            {"max_ms", max},
            {"mean_ms", ms.empty() ? 0.0 : sum / static_cast<double>(ms.size())}};
}

double thread_cpu_seconds() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

double process_cpu_seconds() {
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    auto tv = [](const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) * 1e-6; };
    return tv(ru.ru_utime) + tv(ru.ru_stime);
}

bool parse_long(const char* s, long long* out) {
    char* end = nullptr;
    long long v = std::strtoll(s, &end, 10);
    if (!end || *end != '\0' || end == s) return false;
    *out = v;
    return true;
}

Result<std::string> make_bench_temp_dir(const std::string& prefix) {
    const std::string path =
        (std::filesystem::temp_directory_path() /
         (prefix + "-" + std::to_string(std::chrono::steady_clock::now().time_since_epoch().count())))
            .string();
    std::error_code ec;
    std::filesystem::create_directories(path, ec);
    if (ec) return Status::io_error("cannot create " + path + ": " + ec.message());
    return path;
}

void remove_bench_temp_dir(const std::string& path) {
    if (path.empty()) return;
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
}

Status emit_bench_json(const nlohmann::json& result, const std::string& path) {
    const std::string text = result.dump(2);
    std::cout << text << std::endl;
    std::ofstream out(path);
    if (!out || !(out << text << "\n")) return Status::io_error("cannot write " + path);
    return Status::ok();
}

std::string TurnTextGenerator::turn(int words) {
    std::string out;
    int n = 0;
    while (n < words) {
        const std::string q = corpus_.query();
        size_t start = 0;
        while (n < words && start < q.size()) {
            size_t end = q.find(' ', start);
            if (end == std::string::npos) end = q.size();
            if (end > start) {
                if (!out.empty()) out += ' ';
                out.append(q, start, end - start);
                ++n;
            }
            start = end + 1;
        }
    }
    return out;
}

}  // namespace kasten::api
