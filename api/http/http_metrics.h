#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <tuple>

#include "memory/memory_manager.h"

namespace kasten::api {

// Request counters and latency histograms of the HTTP server, rendered with the memory counters as Prometheus text
// (exposition format 0.0.4). Thread-safe.
class HttpMetrics {
  public:
    // Upper bounds of the latency histogram buckets, in seconds.
    static constexpr std::array<double, 12> kBuckets = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                        0.1,   0.25,   0.5,   1.0,  2.5,   10.0};

    // route is the matched pattern ("/v1/cubes/{cube}") or "unmatched"; code the HTTP status sent.
    void record(const std::string& method, const std::string& route, int code, double seconds);

    // kasten_http_requests_total, kasten_http_request_duration_seconds, kasten_cubes, kasten_turns_added_total,
    // kasten_searches_total, kasten_index_units{index="lexical"|"vector"}, kasten_build_info.
    std::string render(const memory::ManagerStats& stats, const std::string& version) const;

  private:
    struct Histogram {
        std::array<std::int64_t, kBuckets.size()> buckets{};  // non-cumulative counts
        std::int64_t count = 0;
        double sum = 0;
    };
    mutable std::mutex mu_;
    std::map<std::tuple<std::string, std::string, int>, std::int64_t> requests_;  // (method, route, code)
    std::map<std::string, Histogram> durations_;                                  // per route
};

}  // namespace kasten::api
