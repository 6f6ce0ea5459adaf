#pragma once

namespace kasten::api {

// `kasten bench kv`: the compressed KV caches against the full-precision one (quality on stories260K, decode
// speed on the 135M shape). argv[0] = "bench", argv[1] = "kv". Returns the process exit code (0 ok, 1 failure,
// 2 usage).
int run_bench_kv(int argc, char** argv);

// Its section of `kasten bench --help`.
const char* bench_kv_usage();

}  // namespace kasten::api
