#include "llm/memory_bandwidth.h"

#include <algorithm>
#include <chrono>
#include <memory>

namespace kasten::llm {

double measure_triad_bandwidth(ThreadPool& pool, std::size_t array_bytes, int repeats) {
    const std::size_t n = std::max<std::size_t>(array_bytes / sizeof(double), 1024);
    std::unique_ptr<double[]> a(new double[n]), b(new double[n]), c(new double[n]);
    const int tasks = pool.size();
    // First touch from the threads that will use each slice.
    pool.run(tasks, [&](int task, int) {
        const std::size_t begin = n * static_cast<std::size_t>(task) / tasks;
        const std::size_t end = n * static_cast<std::size_t>(task + 1) / tasks;
        for (std::size_t i = begin; i < end; ++i) {
            a[i] = 0.0;
            b[i] = 1.0;
            c[i] = 2.0;
        }
    });
    const double s = 3.0;
    double best = 1e30;
    for (int r = 0; r < std::max(1, repeats); ++r) {
        const auto t0 = std::chrono::steady_clock::now();
        pool.run(tasks, [&](int task, int) {
            const std::size_t begin = n * static_cast<std::size_t>(task) / tasks;
            const std::size_t end = n * static_cast<std::size_t>(task + 1) / tasks;
            double* __restrict pa = a.get();
            const double* __restrict pb = b.get();
            const double* __restrict pc = c.get();
            for (std::size_t i = begin; i < end; ++i) pa[i] = pb[i] + s * pc[i];
        });
        best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    }
    // Keep the result observable so the loop is not optimised away.
    volatile double sink = a[n / 2];
    (void)sink;
    return 3.0 * sizeof(double) * static_cast<double>(n) / best;
}

}  // namespace kasten::llm
