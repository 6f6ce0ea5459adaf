#include "api/http/http_metrics.h"

#include <gtest/gtest.h>

namespace kasten::api {
namespace {

TEST(HttpMetricsTest, RendersCountersHistogramsAndGauges) {
    HttpMetrics m;
    m.record("GET", "/v1/cubes", 200, 0.002);
    m.record("GET", "/v1/cubes", 200, 0.2);
    m.record("POST", "/v1/cubes", 409, 20.0);
    memory::ManagerStats stats;
    stats.cubes = 3;
    stats.turns_added = 7;
    stats.searches = 2;
    stats.lexical_units = 11;
    stats.vector_units = 12;
    stats.hit_cache_hits = 40;
    stats.hit_cache_misses = 5;
    stats.hit_cache_bytes = 4096;
    stats.hit_cache_entries = 9;
    stats.background_adds = 4;
    stats.search_helper_handoffs = 6;
    const std::string text = m.render(stats, "1.2.3");
    EXPECT_NE(text.find("kasten_http_requests_total{method=\"GET\",route=\"/v1/cubes\",code=\"200\"} 2\n"),
              std::string::npos);
    EXPECT_NE(text.find("kasten_http_requests_total{method=\"POST\",route=\"/v1/cubes\",code=\"409\"} 1\n"),
              std::string::npos);
    // Buckets are cumulative; the 20 s request only counts in +Inf.
    EXPECT_NE(text.find("kasten_http_request_duration_seconds_bucket{route=\"/v1/cubes\",le=\"0.0025\"} 1\n"),
              std::string::npos);
    EXPECT_NE(text.find("kasten_http_request_duration_seconds_bucket{route=\"/v1/cubes\",le=\"0.25\"} 2\n"),
              std::string::npos);
    EXPECT_NE(text.find("kasten_http_request_duration_seconds_bucket{route=\"/v1/cubes\",le=\"10\"} 2\n"),
              std::string::npos);
    EXPECT_NE(text.find("kasten_http_request_duration_seconds_bucket{route=\"/v1/cubes\",le=\"+Inf\"} 3\n"),
              std::string::npos);
    EXPECT_NE(text.find("kasten_http_request_duration_seconds_count{route=\"/v1/cubes\"} 3\n"), std::string::npos);
    EXPECT_NE(text.find("# TYPE kasten_http_request_duration_seconds histogram"), std::string::npos);
    EXPECT_NE(text.find("kasten_cubes 3\n"), std::string::npos);
    EXPECT_NE(text.find("kasten_turns_added_total 7\n"), std::string::npos);
    EXPECT_NE(text.find("kasten_searches_total 2\n"), std::string::npos);
    EXPECT_NE(text.find("kasten_index_units{index=\"lexical\"} 11\n"), std::string::npos);
    EXPECT_NE(text.find("kasten_index_units{index=\"vector\"} 12\n"), std::string::npos);
    EXPECT_NE(text.find("kasten_hit_cache_lookups_total{result=\"hit\"} 40\n"), std::string::npos);
    EXPECT_NE(text.find("kasten_hit_cache_lookups_total{result=\"miss\"} 5\n"), std::string::npos);
    EXPECT_NE(text.find("kasten_hit_cache_bytes 4096\n"), std::string::npos);
    EXPECT_NE(text.find("kasten_hit_cache_entries 9\n"), std::string::npos);
    EXPECT_NE(text.find("kasten_background_adds_total 4\n"), std::string::npos);
    EXPECT_NE(text.find("kasten_search_helper_handoffs_total 6\n"), std::string::npos);
    EXPECT_NE(text.find("kasten_build_info{version=\"1.2.3\"} 1\n"), std::string::npos);
}

TEST(HttpMetricsTest, EscapesLabelValues) {
    HttpMetrics m;
    m.record("GET", "a\"b\\c", 404, 0.0);
    EXPECT_NE(m.render({}, "v").find("route=\"a\\\"b\\\\c\""), std::string::npos);
}

}  // namespace
}  // namespace kasten::api
