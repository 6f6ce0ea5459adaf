#pragma once

namespace kasten::api {

// The `kasten` command line: `kasten [global options] COMMAND [options] [args]`. Prints help for `kasten`,
// `kasten --help`, `kasten help [COMMAND]` and `kasten COMMAND --help`. Returns the exit code: 0 success,
// 1 operational error (message on stderr), 2 usage error (unknown command or flag, missing argument).
int run_cli(int argc, char** argv);

}  // namespace kasten::api
