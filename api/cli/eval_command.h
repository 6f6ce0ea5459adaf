#pragma once

namespace kasten::api {

// `kasten eval ...`: argv[0] is "eval", then the benchmark name and its own arguments (global options given before
// the command are appended after them). Returns the process exit code (0 ok, 1 failure, 2 usage). Implemented in
// api/cli/eval_command.cc.
int run_eval_command(int argc, char** argv);

}  // namespace kasten::api
