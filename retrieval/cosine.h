#pragma once

#include <cmath>
#include <vector>

namespace kasten::retrieval {

// Cosine similarity of two vectors in [-1, 1]; 0 when either is all zeros, empty, or the sizes differ.
inline double cosine_similarity(const std::vector<float>& a, const std::vector<float>& b) {
    if (a.size() != b.size() || a.empty()) return 0;
    double dot = 0, na = 0, nb = 0;
    for (std::size_t i = 0; i < a.size(); ++i) {
        dot += static_cast<double>(a[i]) * b[i];
        na += static_cast<double>(a[i]) * a[i];
        nb += static_cast<double>(b[i]) * b[i];
    }
    if (na <= 0 || nb <= 0) return 0;
    return dot / std::sqrt(na * nb);
}

}  // namespace kasten::retrieval
