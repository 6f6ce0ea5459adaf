#include "retrieval/flat_vector_index.h"

#include "retrieval/half_rows.h"

#include <Eigen/Core>

#include <algorithm>
#include <cassert>
#include <cmath>
#include <cstring>
#include <functional>
#include <limits>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <unordered_map>

namespace kasten::retrieval {
namespace {

// Rows per approximate-score block: bounds the scratch buffer (a multiple of HalfRows::kBlockRows).
constexpr std::size_t kBlockRows = 4096;
static_assert(kBlockRows % HalfRows::kBlockRows == 0);
// Symbol id of an empty role / session.
constexpr std::uint32_t kNoSymbol = 0;

// Validates `vec` and writes its L2-normalised copy into `out` (dim floats). A zero vector stays zero.
Status normalise_into(std::span<const float> vec, int dim, float* out, const char* what) {
    if (vec.size() != static_cast<std::size_t>(dim)) {
        return Status::invalid_argument(std::string(what) + ": vector has " + std::to_string(vec.size()) +
                                        " components, index dimension is " + std::to_string(dim));
    }
    double sum = 0;
    for (float x : vec) {
        if (!std::isfinite(x))
            return Status::invalid_argument(std::string(what) + ": vector has a non-finite component");
        sum += static_cast<double>(x) * x;
    }
    const double inv = sum > 0 ? 1.0 / std::sqrt(sum) : 0.0;
    for (std::size_t i = 0; i < vec.size(); ++i) out[i] = static_cast<float>(vec[i] * inv);
    return Status::ok();
}

}  // namespace

// The units of one (cube, type). Row r of `data` (dim floats, normalised) and of `halves` (its half-precision copy)
// belongs to row_ids[r], times[r], ...
struct FlatVectorIndex::Partition {
    explicit Partition(int dim) : halves(dim) {}

    // Guards everything below. Taken after the index's own (map) lock, never before it.
    mutable WriterPriorityMutex mu;
    std::vector<float> data;
    HalfRows halves;
    std::vector<std::string> row_ids;
    std::vector<TimeMs> times;
    std::vector<std::uint32_t> roles;     // symbol ids
    std::vector<std::uint32_t> sessions;  // symbol ids
    std::unordered_map<std::string, std::size_t> row_of;
    // Interned role and session strings ("" is kNoSymbol). Only grows; dropped with the partition.
    std::unordered_map<std::string, std::uint32_t> symbols{{std::string(), kNoSymbol}};

    std::size_t rows() const { return row_ids.size(); }

    std::uint32_t intern(const std::string& s) {
        auto [it, inserted] = symbols.try_emplace(s, static_cast<std::uint32_t>(symbols.size()));
        return it->second;
    }
    std::optional<std::uint32_t> lookup(const std::string& s) const {
        auto it = symbols.find(s);
        if (it == symbols.end()) return std::nullopt;
        return it->second;
    }
};

FlatVectorIndex::FlatVectorIndex(int dim) : dim_(dim) {
    assert(dim > 0);
}
FlatVectorIndex::~FlatVectorIndex() = default;

const FlatVectorIndex::Partition* FlatVectorIndex::find(const std::string& cube_id, UnitType type) const {
    auto it = partitions_.find(PartitionKey(cube_id, type));
    return it == partitions_.end() ? nullptr : it->second.get();
}

Status FlatVectorIndex::upsert(const UnitAttrs& attrs, std::span<const float> vec) {
    if (attrs.cube_id.empty()) return Status::invalid_argument("vector index: empty cube id");
    if (attrs.id.empty()) return Status::invalid_argument("vector index: empty unit id");
    std::vector<float> row(static_cast<std::size_t>(dim_));
    KASTEN_RETURN_IF_ERROR(normalise_into(vec, dim_, row.data(), "vector index upsert"));

    const PartitionKey key(attrs.cube_id, attrs.type);
    std::shared_lock map_lock(mu_);
    if (find(attrs.cube_id, attrs.type) == nullptr) {
        map_lock.unlock();
        {
            std::unique_lock create(mu_);  // a new partition (a new cube or type): rare
            auto& slot = partitions_[key];
            if (!slot) slot = std::make_unique<Partition>(dim_);
        }
        map_lock.lock();
    }
    Partition& p = *partitions_.find(key)->second;  // partitions are erased only under the exclusive map lock
    std::unique_lock lock(p.mu);
    const std::size_t d = static_cast<std::size_t>(dim_);
    auto [it, inserted] = p.row_of.try_emplace(attrs.id, p.rows());
    const std::size_t r = it->second;
    if (inserted) {
        // std::vector grows geometrically, so appends are amortised O(dim).
        p.data.insert(p.data.end(), row.begin(), row.end());
        p.halves.append(row);
        p.row_ids.push_back(attrs.id);
        p.times.push_back(attrs.time);
        p.roles.push_back(p.intern(attrs.role));
        p.sessions.push_back(p.intern(attrs.session_id));
    } else {
        std::memcpy(p.data.data() + r * d, row.data(), d * sizeof(float));
        p.halves.assign(r, row);
        p.times[r] = attrs.time;
        p.roles[r] = p.intern(attrs.role);
        p.sessions[r] = p.intern(attrs.session_id);
    }
    return Status::ok();
}

Status FlatVectorIndex::remove(const std::string& cube_id, UnitType type, const std::string& id) {
    std::shared_lock map_lock(mu_);
    auto pit = partitions_.find(PartitionKey(cube_id, type));
    if (pit == partitions_.end()) return Status::ok();
    Partition& p = *pit->second;
    std::unique_lock lock(p.mu);
    auto it = p.row_of.find(id);
    if (it == p.row_of.end()) return Status::ok();
    const std::size_t r = it->second;
    const std::size_t last = p.rows() - 1;
    const std::size_t d = static_cast<std::size_t>(dim_);
    p.row_of.erase(it);
    if (r != last) {  // move the last row into the hole
        std::memcpy(p.data.data() + r * d, p.data.data() + last * d, d * sizeof(float));
        p.row_ids[r] = std::move(p.row_ids[last]);
        p.times[r] = p.times[last];
        p.roles[r] = p.roles[last];
        p.sessions[r] = p.sessions[last];
        p.row_of[p.row_ids[r]] = r;
    }
    p.halves.move_last_to(r);
    p.data.resize(last * d);
    p.row_ids.pop_back();
    p.times.pop_back();
    p.roles.pop_back();
    p.sessions.pop_back();
    return Status::ok();  // an emptied partition stays (erasing it would need the exclusive map lock)
}

Status FlatVectorIndex::remove_cube(const std::string& cube_id) {
    std::unique_lock lock(mu_);
    for (UnitType type : {UnitType::kTurn, UnitType::kSession, UnitType::kNote}) {
        partitions_.erase(PartitionKey(cube_id, type));
    }
    return Status::ok();
}

Result<std::vector<ScoredId>> FlatVectorIndex::search(std::span<const float> query, const SearchFilter& filter,
                                                      int k) const {
    if (filter.cube_id.empty()) return Status::invalid_argument("vector search: empty cube id");
    std::vector<float> q(static_cast<std::size_t>(dim_));
    KASTEN_RETURN_IF_ERROR(normalise_into(query, dim_, q.data(), "vector search"));
    std::vector<ScoredId> hits;
    if (k <= 0) return hits;
    if (filter.time_from && filter.time_to && *filter.time_from > *filter.time_to) return hits;

    std::shared_lock map_lock(mu_);
    const Partition* p = find(filter.cube_id, filter.type);
    if (p == nullptr) return hits;
    std::shared_lock lock(p->mu);  // writes to other partitions (other cubes) never wait for this search
    if (p->rows() == 0) return hits;

    std::optional<std::uint32_t> role;
    std::optional<std::uint32_t> session;
    if (filter.role) {
        role = p->lookup(*filter.role);
        if (!role) return hits;  // no unit has that role
    }
    if (filter.session_id) {
        session = p->lookup(*filter.session_id);
        if (!session) return hits;
    }
    const TimeMs from = filter.time_from.value_or(std::numeric_limits<TimeMs>::min());
    const TimeMs to = filter.time_to.value_or(std::numeric_limits<TimeMs>::max());
    auto passes = [&](std::size_t r) {
        return p->times[r] >= from && p->times[r] <= to && (!role || p->roles[r] == *role) &&
               (!session || p->sessions[r] == *session);
    };

    // Pass 1 over the halves (half the floats' bytes): each row's float score lies within [a - b, a + b] (HalfRows).
    // tau is the k-th best lower bound among the passing rows seen so far; a row whose upper bound is below the final
    // tau cannot be in the top k, because k rows score at least tau.
    const std::size_t cap = std::min(static_cast<std::size_t>(k), p->rows());
    std::vector<float> lower;  // min-heap of the best `cap` lower bounds
    lower.reserve(cap);
    float tau = -std::numeric_limits<float>::infinity();
    struct Maybe {
        float upper;
        std::size_t row;
    };
    std::vector<Maybe> maybe;
    const std::size_t rows = p->rows();
    std::vector<float> approx(std::min(rows, kBlockRows));
    for (std::size_t start = 0; start < rows; start += kBlockRows) {
        const std::size_t n = std::min(kBlockRows, rows - start);
        p->halves.approx_dots(q.data(), start, n, approx.data());
        for (std::size_t i = 0; i < n; ++i) {
            const std::size_t row = start + i;
            const float a = approx[i];
            const float b = p->halves.bound(row);
            if (a + b < tau || !passes(row)) continue;
            maybe.push_back(Maybe{a + b, row});
            if (lower.size() < cap) {
                lower.push_back(a - b);
                std::push_heap(lower.begin(), lower.end(), std::greater<>());
            } else if (a - b > lower.front()) {
                std::pop_heap(lower.begin(), lower.end(), std::greater<>());
                lower.back() = a - b;
                std::push_heap(lower.begin(), lower.end(), std::greater<>());
            }
            if (lower.size() == cap) tau = lower.front();
        }
    }

    // Pass 2: the rows that may be in the top k, scored from the floats. Bounded heap of the best `cap`
    // (score, row) pairs; its front is the worst kept one.
    struct Candidate {
        float score;
        std::size_t row;
    };
    auto better = [p](const Candidate& a, const Candidate& b) {
        if (a.score != b.score) return a.score > b.score;
        return p->row_ids[a.row] < p->row_ids[b.row];
    };
    std::vector<Candidate> heap;
    heap.reserve(cap);
    const std::size_t d = static_cast<std::size_t>(dim_);
    Eigen::Map<const Eigen::VectorXf> qv(q.data(), dim_);
    for (const Maybe& m : maybe) {
        if (m.upper < tau) continue;
        Candidate c{Eigen::Map<const Eigen::VectorXf>(p->data.data() + m.row * d, dim_).dot(qv), m.row};
        if (heap.size() == cap && !better(c, heap.front())) continue;
        if (heap.size() == cap) {
            std::pop_heap(heap.begin(), heap.end(), better);
            heap.back() = c;
        } else {
            heap.push_back(c);
        }
        std::push_heap(heap.begin(), heap.end(), better);
    }
    std::sort_heap(heap.begin(), heap.end(), better);
    hits.reserve(heap.size());
    for (const Candidate& c : heap) hits.push_back(ScoredId{p->row_ids[c.row], static_cast<double>(c.score)});
    return hits;
}

Result<std::vector<std::optional<double>>> FlatVectorIndex::similarities(std::span<const float> query,
                                                                         const std::string& cube_id, UnitType type,
                                                                         const std::vector<std::string>& ids) const {
    if (cube_id.empty()) return Status::invalid_argument("vector similarities: empty cube id");
    std::vector<float> q(static_cast<std::size_t>(dim_));
    KASTEN_RETURN_IF_ERROR(normalise_into(query, dim_, q.data(), "vector similarities"));
    std::vector<std::optional<double>> out(ids.size());
    std::shared_lock map_lock(mu_);
    const Partition* p = find(cube_id, type);
    if (p == nullptr) return out;
    std::shared_lock lock(p->mu);
    Eigen::Map<const Eigen::VectorXf> qv(q.data(), dim_);
    const std::size_t d = static_cast<std::size_t>(dim_);
    for (std::size_t i = 0; i < ids.size(); ++i) {
        auto it = p->row_of.find(ids[i]);
        if (it == p->row_of.end()) continue;
        out[i] = static_cast<double>(Eigen::Map<const Eigen::VectorXf>(p->data.data() + it->second * d, dim_).dot(qv));
    }
    return out;
}

std::uint64_t FlatVectorIndex::size(const std::string& cube_id, UnitType type) const {
    std::shared_lock map_lock(mu_);
    const Partition* p = find(cube_id, type);
    if (p == nullptr) return 0;
    std::shared_lock lock(p->mu);
    return p->rows();
}

std::uint64_t FlatVectorIndex::total_size() const {
    std::shared_lock map_lock(mu_);
    std::uint64_t n = 0;
    for (const auto& [key, p] : partitions_) {
        if (!p) continue;
        std::shared_lock lock(p->mu);
        n += p->rows();
    }
    return n;
}

std::vector<std::string> FlatVectorIndex::ids(const std::string& cube_id, UnitType type) const {
    std::shared_lock map_lock(mu_);
    const Partition* p = find(cube_id, type);
    if (p == nullptr) return {};
    std::shared_lock lock(p->mu);
    std::vector<std::string> out = p->row_ids;
    std::sort(out.begin(), out.end());
    return out;
}

}  // namespace kasten::retrieval
