#pragma once

#include "store/cube_store.h"
#include "store/database.h"
#include "store/event_log.h"
#include "store/job_store.h"
#include "store/kv_segment_store.h"
#include "store/link_store.h"
#include "store/meta_store.h"
#include "store/note_store.h"
#include "store/session_store.h"
#include "store/turn_store.h"

namespace kasten::memory {

// Every table's repository over one SQLite connection. Not thread-safe (see store::Database): whoever holds it
// holds the connection.
struct Repositories {
    explicit Repositories(store::Database& db)
        : db(db),
          cubes(db),
          sessions(db),
          turns(db),
          notes(db),
          links(db),
          events(db),
          meta(db),
          jobs(db),
          kv_segments(db) {}
    Repositories(const Repositories&) = delete;
    Repositories& operator=(const Repositories&) = delete;

    store::Database& db;
    store::CubeStore cubes;
    store::SessionStore sessions;
    store::TurnStore turns;
    store::NoteStore notes;
    store::LinkStore links;
    store::EventLog events;
    store::MetaStore meta;
    store::JobStore jobs;
    store::KvSegmentStore kv_segments;
};

}  // namespace kasten::memory
