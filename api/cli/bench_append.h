#pragma once

namespace kasten::api {

// `kasten bench append`: one session grows turn by turn; per-add latency over windows of the session's length,
// through MemoryManager and (--http) through the REST server. argv[0] = "bench", argv[1] = "append". Returns the
// process exit code (0 ok, 1 failure, 2 usage).
int run_bench_append(int argc, char** argv);

// Its section of `kasten bench --help`.
const char* bench_append_usage();

}  // namespace kasten::api
