#include "retrieval/cube_term_counts.h"

namespace kasten::retrieval {

CubeTermCounts::Cube& CubeTermCounts::cube(const std::string& cube_id) {
    Cube& c = cubes_[cube_id];
    if (c.parts.empty()) c.parts.resize(parts_);
    return c;
}

CubeTermCounts::Lookup CubeTermCounts::find(const std::string& cube_id, std::size_t part,
                                            const std::vector<std::string>& terms) {
    Lookup out;
    out.frequencies.resize(terms.size());
    std::lock_guard<std::mutex> g(mu_);
    const Cube& c = cube(cube_id);
    out.generation = c.generation;
    const Part& p = c.parts[part];
    out.documents = p.documents;
    for (std::size_t i = 0; i < terms.size(); ++i) {
        auto f = p.frequencies.find(terms[i]);
        if (f != p.frequencies.end()) out.frequencies[i] = f->second;
    }
    return out;
}

void CubeTermCounts::store(const std::string& cube_id, std::size_t part, std::uint64_t generation,
                           std::uint64_t documents, const std::vector<std::string>& terms,
                           const std::vector<std::uint64_t>& frequencies) {
    std::lock_guard<std::mutex> g(mu_);
    if (entries_ + terms.size() > kMaxEntries) {
        for (auto& [id, c] : cubes_) drop_counts(c);  // generations are kept
    }
    Cube& c = cube(cube_id);
    if (c.generation != generation) return;
    Part& p = c.parts[part];
    p.documents = documents;
    for (std::size_t i = 0; i < terms.size(); ++i) {
        if (p.frequencies.emplace(terms[i], frequencies[i]).second) ++entries_;
    }
}

void CubeTermCounts::begin_change(const std::string& cube_id) {
    std::lock_guard<std::mutex> g(mu_);
    ++cube(cube_id).generation;
}

void CubeTermCounts::add_document(const std::string& cube_id, std::size_t part,
                                  const std::vector<std::string_view>& terms, bool new_document) {
    std::lock_guard<std::mutex> g(mu_);
    auto c = cubes_.find(cube_id);
    if (c == cubes_.end()) return;
    Part& p = c->second.parts[part];
    if (new_document && p.documents) ++*p.documents;
    if (p.frequencies.empty()) return;
    for (std::string_view term : terms) {
        auto f = p.frequencies.find(std::string(term));
        if (f != p.frequencies.end()) ++f->second;
    }
}

void CubeTermCounts::invalidate(const std::string& cube_id) {
    std::lock_guard<std::mutex> g(mu_);
    Cube& c = cube(cube_id);
    ++c.generation;
    drop_counts(c);
}

void CubeTermCounts::invalidate_all() {
    std::lock_guard<std::mutex> g(mu_);
    for (auto& [id, c] : cubes_) {
        ++c.generation;
        drop_counts(c);
    }
}

void CubeTermCounts::drop_counts(Cube& c) {
    for (Part& p : c.parts) {
        entries_ -= p.frequencies.size();
        p = Part{};
    }
}

}  // namespace kasten::retrieval
