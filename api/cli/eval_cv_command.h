#pragma once

namespace kasten::api {

// `kasten eval cv ...`: argv[0] is "cv", then its arguments. k-fold cross-validation of a choice among evaluation
// runs (eval/cross_validation.h). Returns the process exit code (0 ok, 1 failure, 2 usage).
int run_eval_cv(int argc, char** argv);

}  // namespace kasten::api
