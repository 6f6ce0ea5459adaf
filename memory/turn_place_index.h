#pragma once

#include <cstdint>
#include <functional>
#include <shared_mutex>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/string_hash.h"
#include "store/records.h"

namespace kasten::memory {

// Where every turn sits in its session (session id, position), held in memory so that a search can find a candidate's
// neighbours without reading the store: derived data, rebuilt from the store at open and kept in step by IndexSync
// like the other indexes. It holds every turn, whatever its embedding (foreign cubes included).
//
// Memory: about 150 bytes per turn. Thread safety: any number of concurrent readers with one writer at a time.
class TurnPlaceIndex {
  public:
    // A turn's place as the index holds it: views valid only while visit_near's callback runs. `session` numbers the
    // cube's sessions (equal for turns of one session, otherwise arbitrary).
    struct PlaceView {
        std::string_view id;
        std::uint32_t session = 0;
        int index = 0;
    };

    // Adds or moves a turn.
    void put(const std::string& cube_id, const store::TurnPlace& place);
    // Removes a turn; removing a missing one is a no-op.
    void remove(const std::string& cube_id, const std::string& turn_id);
    // Replaces a cube's turns (open, reindex).
    void reset_cube(const std::string& cube_id, const std::vector<store::TurnPlace>& places);
    void remove_cube(const std::string& cube_id);

    // The places of the turns of `ids` that exist in the cube and of every turn of their sessions at most `radius`
    // positions away: for each id in order, its session's positions idx - radius .. idx + radius ascending, each turn
    // once (its first occurrence). radius 0: the places of `ids` alone.
    std::vector<store::TurnPlace> near(const std::string& cube_id, const std::vector<std::string>& ids,
                                       int radius) const;
    // The places near() lists, in its order, as views passed to `fn` under the index's read lock (no id or session
    // string is copied; writers wait until `fn` returns, so keep it short).
    void visit_near(const std::string& cube_id, const std::vector<std::string_view>& ids, int radius,
                    const std::function<void(std::span<const PlaceView>)>& fn) const;
    // Turns of one cube (tests, consistency checks).
    std::size_t size(const std::string& cube_id) const;

  private:
    struct Cube {
        struct Spot {
            std::uint32_t session = 0;  // index into sessions
            int index = 0;
        };
        // One turn of a session's row: its position and its id (a key of by_id, whose nodes never move).
        struct Entry {
            int index = 0;
            std::string_view id;
        };
        std::unordered_map<std::string, Spot, StringHash, std::equal_to<>> by_id;
        std::vector<std::vector<Entry>> rows;  // per session, ascending by position, one entry per position
        std::unordered_map<std::string, std::uint32_t> session_ids;  // interned; only grows with the cube
        std::vector<std::string> sessions;
    };

    static void put_locked(Cube& cube, const store::TurnPlace& place);
    // near()'s places of `cube` into `out`; the caller holds mu_.
    template <typename Id>
    static void near_locked(const Cube& cube, const std::vector<Id>& ids, int radius, std::vector<PlaceView>& out);
    // Removes `id`'s entry at `spot` from its session's row, if the position still holds it.
    static void erase_entry(Cube& cube, std::string_view id, Cube::Spot spot);

    mutable std::shared_mutex mu_;
    std::unordered_map<std::string, Cube> cubes_;
};

}  // namespace kasten::memory
