// The official MCP TypeScript SDK over streamable HTTP against `kasten serve --api-keys key-for-alice=alice`:
// the key is required, and a cube the key may not use is a tool error.
import assert from "node:assert/strict";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { ok, toolError } from "./mcp_checks.mjs";

const url = new URL(`${process.env.KASTEN_URL}/mcp`);

// Without a key: the connection is refused (401).
const anonymous = new Client({ name: "no-key", version: "1.0.0" });
await assert.rejects(anonymous.connect(new StreamableHTTPClientTransport(url)), /401|API key/);

// With a wrong key: refused too.
const wrong = new Client({ name: "wrong-key", version: "1.0.0" });
await assert.rejects(
    wrong.connect(
        new StreamableHTTPClientTransport(url, { requestInit: { headers: { Authorization: "Bearer not-a-key-123" } } }),
    ),
    /401|unknown API key/,
);

const client = new Client({ name: "alice", version: "1.0.0" });
await client.connect(
    new StreamableHTTPClientTransport(url, { requestInit: { headers: { Authorization: "Bearer key-for-alice" } } }),
);
const added = await ok(client, "add_memory", { cube: "alice", text: "My locker code is 4711" });
assert.equal(added.cube, "alice");
const found = await ok(client, "search_memories", { cube: "alice", query: "locker code" });
assert.equal(found.hits[0].id, added.turn_ids[0]);
for (const [name, args] of [
    ["search_memories", { cube: "bob", query: "locker" }],
    ["add_memory", { cube: "bob", text: "sneaky" }],
    ["list_memories", { cube: "bob" }],
    ["list_memories", {}], // the default cube ("default"), not alice's either
]) {
    const denied = await toolError(client, name, args);
    assert.equal(denied.type, "permission_denied", `${name} ${JSON.stringify(args)}`);
}
// Nothing reached cube bob.
const cubes = await fetch(`${process.env.KASTEN_URL}/v1/cubes`, {
    headers: { Authorization: "Bearer key-for-alice" },
}).then((r) => r.json());
assert.deepEqual(
    cubes.cubes.map((c) => c.id),
    ["alice"],
);
await client.close();
console.log("MCP SDK over streamable HTTP with API keys: key required, other cubes are tool errors");
