// The official `mem0ai` MemoryClient against `kasten serve` (heuristic notes, the default; see CMakeLists.txt): an
// application written for Mem0's platform switches to kasten by setting the client's host (docs/mem0.md).
import assert from "node:assert/strict";

// The client reads these when it loads: no telemetry calls to Mem0's servers, no ~/.mem0 outside the test's data.
process.env.MEM0_TELEMETRY = "false";
process.env.MEM0_DIR = `${process.env.KASTEN_DATA_DIR}/mem0-client`;
const { MemoryClient, MemoryNotFoundError, ValidationError } = await import("mem0ai");

const client = new MemoryClient({ apiKey: "any-key-works-without-configured-keys", host: process.env.KASTEN_URL });
await client.ping();

// add (infer: the note builder distils the turns; add waits for it and answers with the new memories).
const added = await client.add(
    [
        { role: "user", content: "I moved to Lisbon last year and I work as a nurse at the Santa Maria hospital." },
        { role: "assistant", content: "That sounds like a rewarding job." },
    ],
    { user_id: "alice", run_id: "chat-1", metadata: { source: "onboarding" } },
);
assert.equal(added.status, "SUCCEEDED");
assert.ok(added.results.length >= 1, JSON.stringify(added));
for (const m of added.results) {
    assert.equal(m.event, "ADD");
    assert.equal(typeof m.id, "string");
    assert.equal(m.userId, "alice");
    assert.equal(m.runId, "chat-1");
    assert.deepEqual(m.metadata, { source: "onboarding" });
}
assert.ok(added.results.some((m) => m.memory.includes("Lisbon")), JSON.stringify(added.results));

// add with infer: false stores the message as it is.
const raw = await client.add([{ role: "user", content: "My favourite colour is teal." }], {
    user_id: "alice",
    agent_id: "stylist",
    infer: false,
});
assert.equal(raw.results.length, 1);
assert.equal(raw.results[0].memory, "My favourite colour is teal.");
assert.equal(raw.results[0].agentId, "stylist");
const tealId = raw.results[0].id;

await client.add([{ role: "user", content: "I am allergic to peanuts and I live in Oslo." }], {
    user_id: "bob",
    infer: false,
});

// getAll: the user's memories, the v2 filter shape, pagination; other users' memories stay apart.
const all = await client.getAll({ filters: { user_id: "alice" } });
assert.equal(all.count, added.results.length + 1);
assert.ok(all.results.every((m) => m.userId === "alice"));
assert.ok(!all.results.some((m) => m.memory.includes("peanuts")));
const byAgent = await client.getAll({ filters: { AND: [{ user_id: "alice" }, { agent_id: "stylist" }] } });
assert.deepEqual(
    byAgent.results.map((m) => m.id),
    [tealId],
);
const byRun = await client.getAll({ filters: { AND: [{ user_id: "alice" }, { run_id: { in: ["chat-1"] } }] } });
assert.equal(byRun.count, added.results.length);
const byMetadata = await client.getAll({ filters: { AND: [{ user_id: "alice" }, { metadata: { source: "onboarding" } }] } });
assert.equal(byMetadata.count, added.results.length);
const paged = await client.getAll({ filters: { user_id: "alice" }, page: 1, pageSize: 1 });
assert.equal(paged.results.length, 1);
assert.equal(paged.count, all.count);
assert.notEqual(paged.next, null);

// search: relevant memories first, scores, filters.
const found = await client.search("Which city did I move to? Lisbon", { filters: { user_id: "alice" } });
assert.ok(found.results.length >= 1);
assert.ok(found.results[0].memory.includes("Lisbon"), JSON.stringify(found.results));
assert.equal(typeof found.results[0].score, "number");
const colour = await client.search("favourite colour", {
    filters: { AND: [{ user_id: "alice" }, { agent_id: "stylist" }] },
    topK: 5,
});
assert.deepEqual(
    colour.results.map((m) => m.id),
    [tealId],
);
const bobs = await client.search("peanuts allergy", { filters: { user_id: "bob" } });
assert.ok(bobs.results[0].memory.includes("peanuts"));
await assert.rejects(client.search("anything", { filters: { OR: [{ user_id: "alice" }, { user_id: "bob" }] } }), ValidationError);

// get, update, history.
const teal = await client.get(tealId);
assert.equal(teal.memory, "My favourite colour is teal.");
assert.equal(teal.userId, "alice");
const updated = await client.update(tealId, { text: "My favourite colour is green.", metadata: { confirmed: true } });
assert.equal(updated.memory, "My favourite colour is green.");
assert.deepEqual(updated.metadata, { confirmed: true });
assert.equal(updated.agentId, "stylist");
const history = await client.history(tealId);
assert.deepEqual(
    history.map((h) => h.event),
    ["ADD", "UPDATE"],
);
assert.equal(history[1].oldMemory, "My favourite colour is teal.");
assert.equal(history[1].newMemory, "My favourite colour is green.");

// users (entities).
const users = await client.users();
assert.deepEqual(users.results.map((u) => `${u.type}:${u.name}`).sort(), ["user:alice", "user:bob"]);

// delete one, then everything of a user.
const deleted = await client.delete(tealId);
assert.equal(typeof deleted.message, "string");
await assert.rejects(client.get(tealId), MemoryNotFoundError);
assert.equal((await client.getAll({ filters: { user_id: "alice" } })).count, added.results.length);
await client.deleteAll({ userId: "alice" });
assert.equal((await client.getAll({ filters: { user_id: "alice" } })).count, 0);
assert.equal((await client.getAll({ filters: { user_id: "bob" } })).count, 1);
await client.deleteUsers({ userId: "bob" });
assert.equal((await client.users()).count, 0);

console.log("mem0ai MemoryClient: add, getAll, search, get, update, history, users, delete, deleteAll work");
