#pragma once

namespace kasten::api {

// `kasten bench http`: a load generator of C concurrent keep-alive clients (adds and searches over several cubes)
// against the REST server — in this process on a temporary data dir, or --url — then a check that every
// acknowledged add is searchable. argv[0] = "bench", argv[1] = "http". Returns the process exit code (0 ok, 1
// failure or an acknowledged add not found, 2 usage).
int run_bench_http(int argc, char** argv);

// Its section of `kasten bench --help`.
const char* bench_http_usage();

}  // namespace kasten::api
