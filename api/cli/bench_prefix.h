#pragma once

namespace kasten::api {

// `kasten bench prefix`: activation memory's time to first token with and without the persisted pinned prefix.
// argv[0] = "bench", argv[1] = "prefix". Returns the process exit code (0 ok, 1 failure, 2 usage).
int run_bench_prefix(int argc, char** argv);

// Its section of `kasten bench --help`.
const char* bench_prefix_usage();

}  // namespace kasten::api
