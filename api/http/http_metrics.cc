#include "api/http/http_metrics.h"

#include <fmt/format.h>

namespace kasten::api {
namespace {

// Escapes a Prometheus label value.
std::string label(const std::string& v) {
    std::string out;
    for (char c : v) {
        if (c == '\\' || c == '"') {
            out.push_back('\\');
            out.push_back(c);
        } else if (c == '\n') {
            out += "\\n";
        } else {
            out.push_back(c);
        }
    }
    return out;
}

}  // namespace

void HttpMetrics::record(const std::string& method, const std::string& route, int code, double seconds) {
    std::lock_guard<std::mutex> lock(mu_);
    ++requests_[{method, route, code}];
    Histogram& h = durations_[route];
    for (size_t i = 0; i < kBuckets.size(); ++i) {
        if (seconds <= kBuckets[i]) {
            ++h.buckets[i];
            break;
        }
    }
    ++h.count;
    h.sum += seconds;
}

std::string HttpMetrics::render(const memory::ManagerStats& stats, const std::string& version) const {
    std::string out;
    out += "# HELP kasten_http_requests_total HTTP requests served, by method, route and status code.\n";
    out += "# TYPE kasten_http_requests_total counter\n";
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [key, n] : requests_) {
        const auto& [method, route, code] = key;
        out += fmt::format("kasten_http_requests_total{{method=\"{}\",route=\"{}\",code=\"{}\"}} {}\n", label(method),
                           label(route), code, n);
    }
    out += "# HELP kasten_http_request_duration_seconds Time to handle a request, by route.\n";
    out += "# TYPE kasten_http_request_duration_seconds histogram\n";
    for (const auto& [route, h] : durations_) {
        std::int64_t cumulative = 0;
        for (size_t i = 0; i < kBuckets.size(); ++i) {
            cumulative += h.buckets[i];
            out += fmt::format("kasten_http_request_duration_seconds_bucket{{route=\"{}\",le=\"{}\"}} {}\n",
                               label(route), kBuckets[i], cumulative);
        }
        out += fmt::format("kasten_http_request_duration_seconds_bucket{{route=\"{}\",le=\"+Inf\"}} {}\n", label(route),
                           h.count);
        out += fmt::format("kasten_http_request_duration_seconds_sum{{route=\"{}\"}} {}\n", label(route), h.sum);
        out += fmt::format("kasten_http_request_duration_seconds_count{{route=\"{}\"}} {}\n", label(route), h.count);
    }
    out += "# HELP kasten_cubes Cubes in the store.\n# TYPE kasten_cubes gauge\n";
    out += fmt::format("kasten_cubes {}\n", stats.cubes);
    out += "# HELP kasten_turns_added_total Conversation turns added since the server started.\n";
    out += "# TYPE kasten_turns_added_total counter\n";
    out += fmt::format("kasten_turns_added_total {}\n", stats.turns_added);
    out += "# HELP kasten_searches_total Searches run since the server started.\n";
    out += "# TYPE kasten_searches_total counter\n";
    out += fmt::format("kasten_searches_total {}\n", stats.searches);
    out += "# HELP kasten_note_jobs_done_total Note jobs completed since the server started.\n";
    out += "# TYPE kasten_note_jobs_done_total counter\n";
    out += fmt::format("kasten_note_jobs_done_total {}\n", stats.note_jobs_done);
    out += "# HELP kasten_notes_built_total Notes built by note jobs since the server started.\n";
    out += "# TYPE kasten_notes_built_total counter\n";
    out += fmt::format("kasten_notes_built_total {}\n", stats.notes_built);
    out += "# HELP kasten_index_units Units (turns, sessions, notes) held by each index, all cubes.\n";
    out += "# TYPE kasten_index_units gauge\n";
    out += fmt::format("kasten_index_units{{index=\"lexical\"}} {}\n", stats.lexical_units);
    out += fmt::format("kasten_index_units{{index=\"vector\"}} {}\n", stats.vector_units);
    out += "# HELP kasten_lexical_index_dirty 1 while a failed lexical index write (a full disk) awaits repair.\n";
    out += "# TYPE kasten_lexical_index_dirty gauge\n";
    out += fmt::format("kasten_lexical_index_dirty {}\n", stats.lexical_index_dirty ? 1 : 0);
    out += "# HELP kasten_lexical_index_repairs_total Repairs of the lexical index from the store since start.\n";
    out += "# TYPE kasten_lexical_index_repairs_total counter\n";
    out += fmt::format("kasten_lexical_index_repairs_total {}\n", stats.lexical_index_repairs);
    out +=
        "# HELP kasten_hit_cache_lookups_total Rows searches looked up in the hit cache, by result (a miss reads "
        "the store).\n";
    out += "# TYPE kasten_hit_cache_lookups_total counter\n";
    out += fmt::format("kasten_hit_cache_lookups_total{{result=\"hit\"}} {}\n", stats.hit_cache_hits);
    out += fmt::format("kasten_hit_cache_lookups_total{{result=\"miss\"}} {}\n", stats.hit_cache_misses);
    out += "# HELP kasten_hit_cache_bytes Memory the hit cache accounts for (hit_cache_mib bounds it).\n";
    out += "# TYPE kasten_hit_cache_bytes gauge\n";
    out += fmt::format("kasten_hit_cache_bytes {}\n", stats.hit_cache_bytes);
    out += "# HELP kasten_hit_cache_entries Turns, sessions, notes and cubes the hit cache holds.\n";
    out += "# TYPE kasten_hit_cache_entries gauge\n";
    out += fmt::format("kasten_hit_cache_entries {}\n", stats.hit_cache_entries);
    out += "# HELP kasten_background_adds_total Adds run as bulk work at the lowest CPU priority since start.\n";
    out += "# TYPE kasten_background_adds_total counter\n";
    out += fmt::format("kasten_background_adds_total {}\n", stats.background_adds);
    out +=
        "# HELP kasten_search_helper_handoffs_total Searches whose vector half ran on the helper thread (an idle "
        "core) since start.\n";
    out += "# TYPE kasten_search_helper_handoffs_total counter\n";
    out += fmt::format("kasten_search_helper_handoffs_total {}\n", stats.search_helper_handoffs);
    out += "# HELP kasten_build_info The running kasten version.\n# TYPE kasten_build_info gauge\n";
    out += fmt::format("kasten_build_info{{version=\"{}\"}} 1\n", label(version));
    return out;
}

}  // namespace kasten::api
