#pragma once

#include "common/result.h"

namespace kasten {

// The calling thread's CPU priority on Linux: its nice value, -20 (first) .. 19 (last), which the scheduler weighs
// per thread. Lowering it needs no privilege; raising it back does, so a thread lowered stays lowered.

// The calling thread's nice value.
[[nodiscard]] Result<int> current_thread_nice();
// Lowers the calling thread's priority by `steps` nice levels (at most to 19) and returns the new nice value.
// kInvalidArgument for steps < 0; kNotSupported when the system refuses.
[[nodiscard]] Result<int> lower_current_thread_priority(int steps);

}  // namespace kasten
