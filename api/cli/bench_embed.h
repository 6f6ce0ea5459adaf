#pragma once

namespace kasten::api {

// `kasten bench embed`: sentence embedding throughput of the configured GloVe SIF and Universal Sentence Encoder
// lite files side by side in one run, written as JSON. argv[0] = "bench", argv[1] = "embed". Returns the process
// exit code (0 ok, 1 failure, 2 usage).
int run_bench_embed(int argc, char** argv);

// Its section of `kasten bench --help`.
const char* bench_embed_usage();

}  // namespace kasten::api
