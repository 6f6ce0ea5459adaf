#include "memory/hit_cache.h"

#include <utility>

namespace kasten::memory {

namespace {

// Per entry beyond its strings: the list node, the map node and the key's copy in the map.
constexpr std::size_t kEntryOverhead = 160;

}  // namespace

HitCache::HitCache(std::size_t capacity_bytes) : capacity_(capacity_bytes) {}

namespace {

// A cache key: the kind, the cube id, NUL and the unit id (cube ids never hold NUL, so (cube, id) pairs cannot
// collide), written into `key`.
void write_key(std::string& key, char kind, const std::string& cube_id, const std::string& id) {
    key.clear();
    key.reserve(cube_id.size() + id.size() + 2);
    key.push_back(kind);
    key.append(cube_id);
    key.push_back('\0');
    key.append(id);
}

}  // namespace

std::string HitCache::key_of(Kind kind, const std::string& cube_id, const std::string& id) {
    std::string key;
    write_key(key, static_cast<char>(kind), cube_id, id);
    return key;
}

const std::string& HitCache::lookup_key(Kind kind, const std::string& cube_id, const std::string& id) {
    thread_local std::string key;  // no allocation once the thread's buffer has grown
    write_key(key, static_cast<char>(kind), cube_id, id);
    return key;
}

std::optional<HitCache::List::iterator> HitCache::find_locked(const std::string& key) {
    auto it = by_key_.find(key);
    if (it == by_key_.end()) {
        misses_.fetch_add(1, std::memory_order_relaxed);
        return std::nullopt;
    }
    hits_.fetch_add(1, std::memory_order_relaxed);
    lru_.splice(lru_.begin(), lru_, it->second);  // most recently used first; iterators stay valid
    return it->second;
}

bool HitCache::has_cube(const std::string& cube_id) {
    const std::string& key = lookup_key(Kind::kCube, cube_id, {});
    MutexLock lock(mu_);
    return find_locked(key).has_value();
}

std::optional<HitCache::Turn> HitCache::turn(const std::string& cube_id, const std::string& turn_id) {
    const std::string& key = lookup_key(Kind::kTurn, cube_id, turn_id);
    MutexLock lock(mu_);
    auto e = find_locked(key);
    if (!e) return std::nullopt;
    return (*e)->turn;
}

std::optional<std::string> HitCache::text_of(Kind kind, const std::string& cube_id, const std::string& id) {
    const std::string& key = lookup_key(kind, cube_id, id);
    MutexLock lock(mu_);
    auto e = find_locked(key);
    if (!e) return std::nullopt;
    return (*e)->text;
}

std::optional<std::string> HitCache::session_external_id(const std::string& cube_id, const std::string& session_id) {
    return text_of(Kind::kSession, cube_id, session_id);
}

std::shared_ptr<const retrieval::TermBag> HitCache::note_terms(const std::string& cube_id, const std::string& note_id) {
    const std::string& key = lookup_key(Kind::kNote, cube_id, note_id);
    MutexLock lock(mu_);
    auto e = find_locked(key);
    if (!e) return nullptr;
    return (*e)->turn.terms;
}

std::optional<std::string> HitCache::note_text(const std::string& cube_id, const std::string& note_id) {
    return text_of(Kind::kNote, cube_id, note_id);
}

std::uint64_t HitCache::epoch(const std::string& cube_id) {
    MutexLock lock(mu_);
    auto it = epochs_.find(cube_id);
    return it == epochs_.end() ? 0 : it->second;
}

bool HitCache::fresh_locked(std::uint64_t epoch, const std::string& cube_id) {
    auto it = epochs_.find(cube_id);
    return (it == epochs_.end() ? 0 : it->second) == epoch;
}

void HitCache::bump_locked(const std::string& cube_id) {
    epochs_[cube_id] = ++clock_;
}

bool HitCache::put_locked(Kind kind, const std::string& cube_id, const std::string& id, Turn turn, std::string text) {
    std::string key = key_of(kind, cube_id, id);
    const std::size_t bytes = kEntryOverhead + 2 * key.size() + cube_id.size() + turn.session_id.size() +
                              turn.role.size() + turn.content.size() + (turn.terms ? turn.terms->bytes() : 0) +
                              text.size();
    if (bytes > capacity_) {
        erase_locked(kind, cube_id, id);
        return false;
    }
    auto it = by_key_.find(key);
    if (it != by_key_.end()) {
        Entry& e = *it->second;
        bytes_ -= e.bytes;
        e.turn = std::move(turn);
        e.text = std::move(text);
        e.bytes = bytes;
        bytes_ += bytes;
        lru_.splice(lru_.begin(), lru_, it->second);
    } else {
        lru_.push_front(Entry{key, cube_id, std::move(turn), std::move(text), bytes});
        by_key_.emplace(std::move(key), lru_.begin());
        bytes_ += bytes;
    }
    while (bytes_ > capacity_ && !lru_.empty()) {
        Entry& last = lru_.back();
        bytes_ -= last.bytes;
        by_key_.erase(last.key);
        lru_.pop_back();
    }
    return true;
}

void HitCache::erase_locked(Kind kind, const std::string& cube_id, const std::string& id) {
    auto it = by_key_.find(key_of(kind, cube_id, id));
    if (it == by_key_.end()) return;
    bytes_ -= it->second->bytes;
    lru_.erase(it->second);
    by_key_.erase(it);
}

bool HitCache::put_cube_if(std::uint64_t epoch, const std::string& cube_id) {
    MutexLock lock(mu_);
    if (!fresh_locked(epoch, cube_id)) return false;
    return put_locked(Kind::kCube, cube_id, {}, {}, {});
}

bool HitCache::put_turn_if(std::uint64_t epoch, const std::string& cube_id, const std::string& turn_id, Turn turn) {
    MutexLock lock(mu_);
    if (!fresh_locked(epoch, cube_id)) return false;
    return put_locked(Kind::kTurn, cube_id, turn_id, std::move(turn), {});
}

bool HitCache::put_session_if(std::uint64_t epoch, const std::string& cube_id, const std::string& session_id,
                              std::string external_id) {
    MutexLock lock(mu_);
    if (!fresh_locked(epoch, cube_id)) return false;
    return put_locked(Kind::kSession, cube_id, session_id, {}, std::move(external_id));
}

bool HitCache::put_note_if(std::uint64_t epoch, const std::string& cube_id, const std::string& note_id,
                           std::string text, std::shared_ptr<const retrieval::TermBag> terms) {
    Turn with_terms;
    with_terms.terms = std::move(terms);
    MutexLock lock(mu_);
    if (!fresh_locked(epoch, cube_id)) return false;
    return put_locked(Kind::kNote, cube_id, note_id, std::move(with_terms), std::move(text));
}

void HitCache::put_turn(const std::string& cube_id, const std::string& turn_id, Turn turn, bool changed) {
    MutexLock lock(mu_);
    if (changed) bump_locked(cube_id);
    put_locked(Kind::kTurn, cube_id, turn_id, std::move(turn), {});
}

void HitCache::put_session(const std::string& cube_id, const std::string& session_id, std::string external_id,
                           bool changed) {
    MutexLock lock(mu_);
    if (changed) bump_locked(cube_id);
    put_locked(Kind::kSession, cube_id, session_id, {}, std::move(external_id));
}

void HitCache::put_note(const std::string& cube_id, const std::string& note_id, std::string text, bool changed,
                        std::shared_ptr<const retrieval::TermBag> terms) {
    Turn with_terms;
    with_terms.terms = std::move(terms);
    MutexLock lock(mu_);
    if (changed) bump_locked(cube_id);
    put_locked(Kind::kNote, cube_id, note_id, std::move(with_terms), std::move(text));
}

void HitCache::erase_turn(const std::string& cube_id, const std::string& turn_id) {
    MutexLock lock(mu_);
    bump_locked(cube_id);
    erase_locked(Kind::kTurn, cube_id, turn_id);
}

void HitCache::erase_session(const std::string& cube_id, const std::string& session_id) {
    MutexLock lock(mu_);
    bump_locked(cube_id);
    erase_locked(Kind::kSession, cube_id, session_id);
}

void HitCache::erase_note(const std::string& cube_id, const std::string& note_id) {
    MutexLock lock(mu_);
    bump_locked(cube_id);
    erase_locked(Kind::kNote, cube_id, note_id);
}

void HitCache::erase_cube(const std::string& cube_id) {
    MutexLock lock(mu_);
    bump_locked(cube_id);
    for (auto it = lru_.begin(); it != lru_.end();) {
        if (it->cube_id != cube_id) {
            ++it;
            continue;
        }
        bytes_ -= it->bytes;
        by_key_.erase(it->key);
        it = lru_.erase(it);
    }
}

std::size_t HitCache::bytes() {
    MutexLock lock(mu_);
    return bytes_;
}

std::size_t HitCache::entries() {
    MutexLock lock(mu_);
    return by_key_.size();
}

}  // namespace kasten::memory
