// The official MCP TypeScript SDK over streamable HTTP against `kasten serve`'s /mcp (no API keys).
import assert from "node:assert/strict";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { exerciseTools } from "./mcp_checks.mjs";

const url = new URL(`${process.env.KASTEN_URL}/mcp`);
const transport = new StreamableHTTPClientTransport(url);
const client = new Client({ name: "kasten-http-test", version: "1.0.0" });
await client.connect(transport);
assert.ok(/^[0-9a-f]{32}$/.test(transport.sessionId), `session id ${transport.sessionId}`);
assert.equal(transport.protocolVersion, "2025-06-18");
const cube = await exerciseTools(client, "http-cube");
assert.equal(cube, "http-cube");

// The REST API sees what the MCP tools stored.
const rest = await fetch(`${process.env.KASTEN_URL}/v1/cubes/http-cube`).then((r) => r.json());
assert.equal(rest.counts.turns, 2);

// GET offers no stream (405); DELETE ends the session, after which it is unknown (404).
const get = await fetch(url, { headers: { accept: "text/event-stream", "mcp-session-id": transport.sessionId } });
assert.equal(get.status, 405);
const session = transport.sessionId;
await transport.terminateSession();
const after = await fetch(url, {
    method: "POST",
    headers: {
        "content-type": "application/json",
        accept: "application/json, text/event-stream",
        "mcp-session-id": session,
        "mcp-protocol-version": "2025-06-18",
    },
    body: JSON.stringify({ jsonrpc: "2.0", id: 99, method: "ping" }),
});
assert.equal(after.status, 404);
await client.close();

// A second client gets its own session and the default cube (kasten serve --mcp-cube, default "default").
const second = new Client({ name: "kasten-http-test-2", version: "1.0.0" });
const secondTransport = new StreamableHTTPClientTransport(url);
await second.connect(secondTransport);
assert.notEqual(secondTransport.sessionId, session);
const added = await second.callTool({ name: "add_memory", arguments: { text: "stored in the default cube" } });
assert.equal(added.structuredContent.cube, "default");
await second.close();
console.log("MCP SDK over streamable HTTP: every tool works against kasten serve /mcp");
