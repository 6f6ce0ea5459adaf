#include "memory/reader_pool.h"

#include <chrono>
#include <filesystem>
#include <functional>
#include <future>
#include <thread>

#include <gtest/gtest.h>

#include "common/clock.h"
#include "memory/recall_queue.h"
#include "memory/store_writer.h"

namespace kasten::memory {
namespace {

namespace fs = std::filesystem;

// A fresh database file (created by a writer) in a directory removed at the end of the test.
struct TempStore {
    explicit TempStore(const std::string& name)
        : dir(fs::temp_directory_path() / (name + "-" + std::to_string(::getpid()))) {
        fs::remove_all(dir);
        fs::create_directories(dir);
        path = (dir / "kasten.db").string();
        writer = StoreWriter::open(path, clock, recalls).value();
    }
    ~TempStore() {
        writer.reset();
        fs::remove_all(dir);
    }
    fs::path dir;
    std::string path;
    FakeClock clock{1700000000000};
    RecallQueue recalls;
    std::unique_ptr<StoreWriter> writer;
};

// Commits the creation of cube `id`; `inside` (when given) runs in the write transaction after the insert, and its
// error rolls the transaction back.
Result<std::int64_t> create_cube(StoreWriter& writer, const std::string& id,
                                 const std::function<Status()>& inside = {}) {
    store::EventRecord e;
    e.cube_id = id;
    e.action = "cube.create";
    return writer.commit(e, [&](Repositories& repos, store::EventRecord&) -> Status {
        store::CubeRecord c;
        c.id = id;
        c.name = id;
        c.created_at = 1;
        KASTEN_RETURN_IF_ERROR(repos.cubes.create(c));
        return inside ? inside() : Status::ok();
    });
}

// A reader is never blocked by the writer: while a write transaction is open (and waits for the reader), a leased
// connection reads the last committed state.
TEST(ReaderPoolTest, ReadsProceedWhileAWriteTransactionIsOpen) {
    TempStore store("kasten-readers");
    auto readers = ReaderPool::open(store.path, 2).value();
    ASSERT_TRUE(create_cube(*store.writer, "first").is_ok());

    std::promise<void> in_transaction;
    std::promise<std::int64_t> reader_saw;
    std::thread reader([&] {
        in_transaction.get_future().wait();
        auto r = readers->lease();
        auto n = r->cubes.count();
        reader_saw.set_value(n.is_ok() ? *n : -1);
    });
    auto seen = reader_saw.get_future();
    auto seq = create_cube(*store.writer, "second", [&]() -> Status {
        in_transaction.set_value();
        // The reader must finish while this transaction is still open; a reader waiting for the writer never does.
        if (seen.wait_for(std::chrono::seconds(20)) != std::future_status::ready) {
            return Status::internal("the reader was blocked by the open write transaction");
        }
        return Status::ok();
    });
    reader.join();
    ASSERT_TRUE(seq.is_ok()) << seq.status().to_string();
    EXPECT_EQ(seen.get(), 1) << "the reader sees the last committed state, not the open transaction";
    EXPECT_EQ(readers->lease()->cubes.count().value(), 2);
}

// read_snapshot() holds one read transaction until the lease is handed back: a commit made meanwhile is not seen by
// that lease, and is seen by the next one (whose connection starts a new transaction).
TEST(ReaderPoolTest, ReadSnapshotSeesOneStateUntilHandedBack) {
    TempStore store("kasten-snapshot");
    auto readers = ReaderPool::open(store.path, 1).value();
    ASSERT_TRUE(create_cube(*store.writer, "first").is_ok());
    {
        auto r = readers->lease();
        ASSERT_TRUE(r.read_snapshot().is_ok());
        ASSERT_TRUE(r.read_snapshot().is_ok());  // a second call keeps the same transaction
        EXPECT_EQ(r->cubes.count().value(), 1);
        ASSERT_TRUE(create_cube(*store.writer, "second").is_ok());
        EXPECT_EQ(r->cubes.count().value(), 1) << "a snapshot lease must not see a later commit";
    }
    auto r = readers->lease();  // the same (only) connection, its transaction ended
    EXPECT_EQ(r->cubes.count().value(), 2);
    ASSERT_TRUE(create_cube(*store.writer, "third").is_ok());
    EXPECT_EQ(r->cubes.count().value(), 3) << "without a snapshot every statement sees the last commit";
}

TEST(ReaderPoolTest, LeasesWaitForAFreeConnection) {
    TempStore store("kasten-readers2");
    auto readers = ReaderPool::open(store.path, 1).value();
    std::atomic<bool> second_leased{false};
    std::thread t;
    {
        auto first = readers->lease();
        t = std::thread([&] {
            auto second = readers->lease();
            second_leased = true;
        });
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        EXPECT_FALSE(second_leased.load()) << "one connection: the second lease waits for the first";
    }
    t.join();
    EXPECT_TRUE(second_leased.load());
}

}  // namespace
}  // namespace kasten::memory
