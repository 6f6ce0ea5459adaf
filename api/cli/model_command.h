#pragma once

namespace kasten::api {

// `kasten model info|convert|generate ...`: argv[0] is "model", then the subcommand and its arguments (global
// options given before the command are appended after them). Returns the process exit code (0 ok, 1 failure,
// 2 usage). Implemented in api/cli/model_command.cc.
int run_model_command(int argc, char** argv);

}  // namespace kasten::api
