// The official `mem0ai` MemoryClient against `kasten serve --api-keys` (see CMakeLists.txt): the client's
// "Authorization: Token <key>" is checked like kasten's own keys, and a key may use only the cubes it lists.
import assert from "node:assert/strict";

process.env.MEM0_TELEMETRY = "false";
process.env.MEM0_DIR = `${process.env.KASTEN_DATA_DIR}/mem0-client`;
const { MemoryClient, AuthenticationError, MemoryNotFoundError } = await import("mem0ai");

const host = process.env.KASTEN_URL;
const alice = new MemoryClient({ apiKey: "key-alice-0001", host });
const admin = new MemoryClient({ apiKey: "key-admin-0001", host });
const stranger = new MemoryClient({ apiKey: "not-a-configured-key", host });

await alice.ping();
await assert.rejects(stranger.ping(), AuthenticationError);

const mine = await alice.add([{ role: "user", content: "My locker code is 4711." }], { user_id: "alice", infer: false });
assert.equal(mine.results.length, 1);
await assert.rejects(
    alice.add([{ role: "user", content: "I am Bob" }], { user_id: "bob", infer: false }),
    AuthenticationError, // 403: the key does not list cube user:bob
);
const bobs = await admin.add([{ role: "user", content: "Bob's locker code is 1234." }], { user_id: "bob", infer: false });

assert.equal((await alice.getAll({ filters: { user_id: "alice" } })).count, 1);
await assert.rejects(alice.getAll({ filters: { user_id: "bob" } }), AuthenticationError);
await assert.rejects(alice.search("locker code", { filters: { user_id: "bob" } }), AuthenticationError);
// Another cube's memory is absent to this key.
await assert.rejects(alice.get(bobs.results[0].id), MemoryNotFoundError);
await assert.rejects(alice.delete(bobs.results[0].id), MemoryNotFoundError);
assert.equal((await admin.get(bobs.results[0].id)).memory, "Bob's locker code is 1234.");
assert.deepEqual(
    (await alice.users()).results.map((u) => u.name),
    ["alice"],
);
console.log("mem0ai MemoryClient with API keys: Token keys checked, cubes authorised");
