#pragma once

namespace kasten::api {

// `kasten bench ...`: argv[0] is "bench", then the command's own arguments (global options given before the command
// are appended after them). Returns the process exit code (0 ok, 1 failure, 2 usage). Implemented in
// api/cli/bench_command.cc.
int run_bench_command(int argc, char** argv);

}  // namespace kasten::api
