#include "common/thread_priority.h"

#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>

namespace kasten {
namespace {

id_t current_tid() {
    return static_cast<id_t>(::syscall(SYS_gettid));
}

}  // namespace

Result<int> current_thread_nice() {
    errno = 0;  // getpriority may return -1 as a value
    const int nice = ::getpriority(PRIO_PROCESS, current_tid());
    if (errno != 0)
        return Status::not_supported(std::string("cannot read the thread's priority: ") + std::strerror(errno));
    return nice;
}

Result<int> lower_current_thread_priority(int steps) {
    if (steps < 0) return Status::invalid_argument("a priority can only be lowered (steps >= 0)");
    KASTEN_ASSIGN_OR_RETURN(const int nice, current_thread_nice());
    const int lowered = std::min(19, nice + steps);
    if (::setpriority(PRIO_PROCESS, current_tid(), lowered) != 0) {
        return Status::not_supported(std::string("cannot lower the thread's priority: ") + std::strerror(errno));
    }
    return lowered;
}

}  // namespace kasten
