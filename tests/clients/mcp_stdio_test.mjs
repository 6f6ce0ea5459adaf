// The official MCP TypeScript SDK over stdio: it spawns `kasten mcp` on its own data dir and calls every tool.
import assert from "node:assert/strict";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { exerciseTools, ok } from "./mcp_checks.mjs";

const dataDir = `${process.env.KASTEN_DATA_DIR}-mcp`;
const transport = new StdioClientTransport({
    command: process.env.KASTEN_BIN,
    args: ["mcp", "--data-dir", dataDir, "--embedder", "hashing", "--cube", "alice"],
    stderr: "pipe",
});
let stderr = "";
transport.stderr?.on("data", (chunk) => (stderr += chunk));
const client = new Client({ name: "kasten-stdio-test", version: "1.0.0" });
try {
    await client.connect(transport);
    const cube = await exerciseTools(client); // no cube argument: --cube alice
    assert.equal(cube, "alice");
    // Another cube by argument.
    await ok(client, "add_memory", { cube: "bob", text: "Bob plays the cello" });
    const bob = await ok(client, "search_memories", { cube: "bob", query: "cello" });
    assert.equal(bob.hits.length, 1);
} catch (e) {
    console.error(`---- kasten mcp stderr ----\n${stderr}`);
    throw e;
} finally {
    await client.close();
}

// What was stored is in the data dir: a second `kasten mcp` on it finds it.
const again = new Client({ name: "kasten-stdio-test", version: "1.0.0" });
await again.connect(
    new StdioClientTransport({
        command: process.env.KASTEN_BIN,
        args: ["mcp", "--data-dir", dataDir, "--embedder", "hashing", "--cube", "bob"],
        stderr: "pipe",
    }),
);
const found = await ok(again, "search_memories", { query: "what instrument does Bob play" });
assert.match(found.hits[0].text, /cello/);
await again.close();
console.log("MCP SDK over stdio: every tool works against kasten mcp");
