// docs/openapi.yaml against the tools and the server (see CMakeLists.txt, test client_openapi):
//   1. @redocly/cli lints it with the recommended-strict rules (redocly.yaml here): any warning fails;
//   2. docs/openapi.json is its conversion (scripts/openapi_json.mjs), and GET /openapi.json serves exactly that;
//   3. real answers of a running `kasten serve` (kasten, OpenAI-compatible, MCP and Mem0 routes, successes and errors)
//      validate against the response schemas the document gives for their route and status (ajv, JSON Schema
//      2020-12, the dialect of OpenAPI 3.1).
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import Ajv2020 from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import { openapiJsonText } from "../../scripts/openapi_json.mjs";

const base = process.env.KASTEN_URL;
// client_openapi_auth runs this script against a server with these API keys (CMakeLists.txt).
const adminKey = "key-admin-0001";
const aliceKey = "key-alice-0001";
const here = (p) => fileURLToPath(new URL(p, import.meta.url));

// 1. Lint. Telemetry and update checks off: the test uses no network.
const lint = spawnSync(
    here("node_modules/.bin/redocly"),
    ["lint", "--config", here("redocly.yaml"), "--format", "stylish", here("../../docs/openapi.yaml")],
    {
        encoding: "utf8",
        env: { ...process.env, REDOCLY_TELEMETRY: "off", REDOCLY_SUPPRESS_UPDATE_NOTICE: "true", NO_COLOR: "1" },
    },
);
assert.equal(lint.status, 0, `redocly lint failed:\n${lint.stdout}\n${lint.stderr}`);
// Warnings would not fail the run; the verdict without any problem is this line.
assert.match(lint.stdout + lint.stderr, /Your API description is valid/, `redocly lint:\n${lint.stdout}\n${lint.stderr}`);
console.log("redocly lint (recommended-strict): no problems");

// 2. The committed JSON is the YAML's conversion, and the server serves it.
const jsonText = readFileSync(here("../../docs/openapi.json"), "utf8");
assert.equal(jsonText, openapiJsonText(), "docs/openapi.json is stale: run node scripts/openapi_json.mjs");
const doc = JSON.parse(jsonText);
const served = await fetch(`${base}/openapi.json`);
assert.equal(served.status, 200);
assert.match(served.headers.get("content-type"), /^application\/json/);
assert.deepEqual(await served.json(), doc);
console.log(`GET /openapi.json serves docs/openapi.json (${Object.keys(doc.paths).length} paths)`);

// 3. Real answers against the documented schemas.
const auth = (await (await fetch(`${base}/healthz`)).json()).auth;
const defaultHeaders = auth ? { authorization: `Bearer ${adminKey}` } : {};
const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats(ajv);
ajv.addSchema(doc, "openapi");
const pointer = (...parts) => parts.map((p) => String(p).replaceAll("~", "~0").replaceAll("/", "~1")).join("/");

function responseFor(pattern, method, status) {
    const op = doc.paths[pattern]?.[method.toLowerCase()];
    assert.ok(op, `${method} ${pattern} is not documented`);
    const key = op.responses[String(status)] ? String(status) : "default";
    assert.ok(op.responses[key], `${method} ${pattern} documents no response ${status}`);
    let response = op.responses[key];
    let where = `openapi#/${pointer("paths", pattern, method.toLowerCase(), "responses", key)}`;
    if (response.$ref) {
        where = `openapi${response.$ref}`;
        response = doc.components.responses[response.$ref.split("/").pop()];
    }
    return { response, where };
}

let checked = 0;
let lastHeaders; // of the last answer check() saw
// Returns the parsed answer (or the text for non-JSON answers).
// Calls the route and validates the answer, and the request body against the documented request schema: a body the
// server accepted (2xx) must match it; one marked badBody (a 400 the schema can tell) must not.
async function check(
    method,
    pattern,
    path,
    { body, headers = {}, status, contentType = "application/json", badBody = false } = {},
) {
    const init = { method, headers: { ...defaultHeaders, ...headers } };
    if (body !== undefined) {
        init.body = typeof body === "string" ? body : JSON.stringify(body);
        init.headers["content-type"] ??= "application/json";
    }
    const res = await fetch(`${base}${path}`, init);
    const text = await res.text();
    lastHeaders = res.headers;
    if (status !== undefined) assert.equal(res.status, status, `${method} ${path}: ${text}`);
    const requestSchema = doc.paths[pattern]?.[method.toLowerCase()]?.requestBody?.content?.["application/json"];
    if (requestSchema && body !== undefined && typeof body !== "string") {
        const ref = `openapi#/${pointer("paths", pattern, method.toLowerCase(), "requestBody", "content", "application/json", "schema")}`;
        const validate = ajv.getSchema(ref);
        const valid = validate(body);
        if (badBody) {
            assert.ok(!valid, `${method} ${path}: the documented request schema accepts ${JSON.stringify(body)}`);
        } else if (res.status < 300) {
            assert.ok(valid, `${method} ${path}: request ${JSON.stringify(body)} does not match ${ref}:\n${JSON.stringify(validate.errors, null, 2)}`);
        }
    }
    const { response, where } = responseFor(pattern, method, res.status);
    const type = (res.headers.get("content-type") ?? "").split(";")[0];
    if (!response.content) {
        assert.equal(text, "", `${method} ${path} -> ${res.status} has a body the document does not describe`);
        checked++;
        return undefined;
    }
    assert.ok(response.content[type], `${method} ${path} -> ${res.status}: content type ${type} not documented`);
    assert.equal(type, contentType, `${method} ${path}`);
    let parsed = text;
    if (type === "application/json") {
        parsed = JSON.parse(text);
        const ref = `${where}/${pointer("content", type, "schema")}`;
        const validate = ajv.getSchema(ref);
        assert.ok(validate, `no schema at ${ref}`);
        assert.ok(
            validate(parsed),
            `${method} ${path} -> ${res.status} does not match ${ref}:\n${JSON.stringify(validate.errors, null, 2)}\n${text}`,
        );
    }
    checked++;
    return parsed;
}

// Service routes.
await check("GET", "/healthz", "/healthz", { status: 200 });
await check("GET", "/v1/healthz", "/v1/healthz", { status: 200 });
await check("GET", "/healthz", "/healthz?verbose=1", { status: 400 });
await check("GET", "/metrics", "/metrics", { status: 200, contentType: "text/plain" });
await check("GET", "/openapi.json", "/openapi.json", { status: 200 });

// Cubes, memories, sessions, turns.
await check("POST", "/v1/cubes", "/v1/cubes", { body: { id: "demo", name: "Demo" }, status: 201 });
await check("POST", "/v1/cubes", "/v1/cubes", { body: { id: "demo" }, status: 409 });
await check("POST", "/v1/cubes", "/v1/cubes", { body: { id: "x", owner: "me" }, status: 400, badBody: true });
await check("GET", "/v1/cubes", "/v1/cubes", { status: 200 });
const added = await check("POST", "/v1/cubes/{cube}/memories", "/v1/cubes/demo/memories", {
    body: {
        session_id: "trip",
        time: "2024-05-30T14:00:00Z",
        messages: [
            { role: "user", content: "I moved to Lisbon last spring and I love the pastel de nata." },
            { role: "assistant", content: "Lisbon is lovely!", time: "2024-05-30T14:00:05Z" },
        ],
    },
    status: 201,
});
const note = await check("POST", "/v1/cubes/{cube}/memories", "/v1/cubes/demo/memories", {
    body: { content: "Lives in Lisbon since spring 2024", kind: "fact", keywords: ["Lisbon"], valid_from: "2024-03-20" },
    status: 201,
});
await check("POST", "/v1/cubes/{cube}/memories", "/v1/cubes/nowhere/memories", { body: { content: "x" }, status: 404 });
await check("GET", "/v1/cubes/{cube}", "/v1/cubes/demo", { status: 200 });
await check("GET", "/v1/cubes/{cube}/memories", "/v1/cubes/demo/memories?status=active&limit=10", { status: 200 });
await check("GET", "/v1/cubes/{cube}/memories", "/v1/cubes/demo/memories?limit=0", { status: 400 });
await check("GET", "/v1/cubes/{cube}/memories/{id}", `/v1/cubes/demo/memories/${note.id}`, { status: 200 });
await check("PATCH", "/v1/cubes/{cube}/memories/{id}", `/v1/cubes/demo/memories/${note.id}`, {
    body: { content: "Lives in Porto since 2025", valid_from: "2025-01-10" },
    status: 200,
});
await check("GET", "/v1/cubes/{cube}/memories/{id}/history", `/v1/cubes/demo/memories/${note.id}/history`, {
    status: 200,
});
await check("GET", "/v1/cubes/{cube}/memories/{id}/links", `/v1/cubes/demo/memories/${note.id}/links`, {
    status: 200,
});
await check("GET", "/v1/cubes/{cube}/sessions", "/v1/cubes/demo/sessions", { status: 200 });
await check("GET", "/v1/cubes/{cube}/sessions/{session_id}", "/v1/cubes/demo/sessions/trip", { status: 200 });
await check("GET", "/v1/cubes/{cube}/turns", "/v1/cubes/demo/turns", { status: 200 });
await check("GET", "/v1/cubes/{cube}/turns/{id}", `/v1/cubes/demo/turns/${added.turn_ids[0]}`, { status: 200 });
await check("GET", "/v1/cubes/{cube}/turns/{id}", "/v1/cubes/demo/turns/t_nothing", { status: 404 });

// Search and context.
for (const granularity of ["turn", "session", "note"]) {
    await check("POST", "/v1/cubes/{cube}/search", "/v1/cubes/demo/search", {
        body: { query: "where do I live", granularity, top_k: 3 },
        status: 200,
    });
}
await check("POST", "/v1/cubes/{cube}/search", "/v1/cubes/demo/search", { body: { query: " " }, status: 400, badBody: true });
await check("POST", "/v1/cubes/{cube}/context", "/v1/cubes/demo/context", {
    body: { query: "where do I live", token_budget: 2000 },
    status: 200,
});
await check("POST", "/v1/cubes/{cube}/context", "/v1/cubes/demo/context", {
    body: { query: "where do I live", token_budget: 5, full_history: false, strategy: "note" },
    status: 200,
});

// Jobs.
const jobs = await check("GET", "/v1/cubes/{cube}/jobs", "/v1/cubes/demo/jobs", { status: 200 });
assert.ok(added.job_id, "notes are on: the add queued a job");
await check("GET", "/v1/jobs/{id}", `/v1/jobs/${added.job_id}`, { status: 200 });
await check("GET", "/v1/jobs/{id}", "/v1/jobs/j_nothing", { status: 404 });
assert.ok(jobs.jobs.length >= 1);

// Export, import, deletes.
const exported = await check("GET", "/v1/cubes/{cube}/export", "/v1/cubes/demo/export", {
    status: 200,
    contentType: "application/x-ndjson",
});
// New ids by default: a copy beside its original. A restore (ids=keep) clashes with the original's ids.
const copy = await check("POST", "/v1/cubes/{cube}/import", "/v1/cubes/demo-clone/import", {
    body: exported,
    headers: { "content-type": "application/x-ndjson" },
    status: 201,
});
assert.ok(Object.keys(copy.id_map).length > 0, "the copy's ids are new");
await check("DELETE", "/v1/cubes/{cube}", "/v1/cubes/demo-clone", { status: 204 });
await check("POST", "/v1/cubes/{cube}/import", "/v1/cubes/demo-copy/import?ids=keep", {
    body: exported,
    headers: { "content-type": "application/x-ndjson" },
    status: 409,
});
await check("DELETE", "/v1/cubes/{cube}/memories/{id}", `/v1/cubes/demo/memories/${note.id}`, { status: 204 });
await check("DELETE", "/v1/cubes/{cube}/turns/{id}", `/v1/cubes/demo/turns/${added.turn_ids[1]}`, { status: 204 });
await check("DELETE", "/v1/cubes/{cube}/sessions/{session_id}", "/v1/cubes/demo/sessions/trip", { status: 204 });
await check("DELETE", "/v1/cubes/{cube}", "/v1/cubes/demo", { status: 204 });
await check("POST", "/v1/cubes/{cube}/import", "/v1/cubes/demo-copy/import", {
    body: exported,
    headers: { "content-type": "application/x-ndjson" },
    status: 201,
});
await check("DELETE", "/v1/cubes/{cube}", "/v1/cubes/nowhere", { status: 404 });

// OpenAI-compatible completions (the server runs stories260K).
await check("POST", "/v1/chat/completions", "/v1/chat/completions", {
    body: { messages: [{ role: "user", content: "Once upon a time" }], max_tokens: 8, temperature: 0 },
    status: 200,
});
await check("POST", "/v1/completions", "/v1/completions", {
    body: { prompt: "Once upon a time", max_tokens: 8, temperature: 0, stop: ["."] },
    status: 200,
});
await check("POST", "/v1/chat/completions", "/v1/chat/completions", {
    body: {
        messages: [{ role: "user", content: "My bicycle is a green Gazelle." }],
        user: "carol",
        metadata: { conversation_id: "c1" },
        max_tokens: 4,
    },
    status: 200,
});
assert.equal(lastHeaders.get("x-kasten-cube"), "user:carol");
assert.equal(lastHeaders.get("x-kasten-session"), "c1");
assert.match(lastHeaders.get("x-kasten-context-tokens"), /^\d+$/);
await check("POST", "/v1/completions", "/v1/completions", { body: { prompt: "x", max_tokens: 5000 }, status: 400, badBody: true });
await check("POST", "/v1/chat/completions", "/v1/chat/completions", {
    body: { messages: [{ role: "user", content: "x" }], max_tokens: 2, stream: true },
    status: 200,
    contentType: "text/event-stream",
});

// OpenAI-compatible models and embeddings.
const models = await check("GET", "/v1/models", "/v1/models", { status: 200 });
await check("GET", "/v1/models/{model}", `/v1/models/${encodeURIComponent(models.data[0].id)}`, { status: 200 });
await check("GET", "/v1/models/{model}", "/v1/models/no-such-model", { status: 404 });
await check("POST", "/v1/embeddings", "/v1/embeddings", { body: { input: ["red apples", "green"] }, status: 200 });
await check("POST", "/v1/embeddings", "/v1/embeddings", {
    body: { input: "red apples", encoding_format: "base64" },
    status: 200,
});
await check("POST", "/v1/embeddings", "/v1/embeddings", { body: { input: "x", dimensions: 3 }, status: 400 });

// MCP over streamable HTTP.
const rpc = { "content-type": "application/json", accept: "application/json, text/event-stream" };
await check("POST", "/mcp", "/mcp", {
    headers: rpc,
    body: {
        jsonrpc: "2.0",
        id: 1,
        method: "initialize",
        params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "openapi-test", version: "1" } },
    },
    status: 200,
});
const session = lastHeaders.get("mcp-session-id");
assert.ok(session, "initialize answers an Mcp-Session-Id");
const inSession = { ...rpc, "mcp-session-id": session, "mcp-protocol-version": "2025-06-18" };
await check("POST", "/mcp", "/mcp", {
    headers: inSession,
    body: { jsonrpc: "2.0", method: "notifications/initialized" },
    status: 202,
});
const tools = await check("POST", "/mcp", "/mcp", {
    headers: inSession,
    body: { jsonrpc: "2.0", id: 2, method: "tools/list" },
    status: 200,
});
assert.ok(tools.result.tools.length > 0);
await check("POST", "/mcp", "/mcp", { headers: rpc, body: { jsonrpc: "2.0", id: 3, method: "tools/list" }, status: 400 });
await check("DELETE", "/mcp", "/mcp", { headers: { "mcp-session-id": session }, status: 204 });
await check("DELETE", "/mcp", "/mcp", { headers: { "mcp-session-id": session }, status: 404 });

// Mem0 routes (as the clients call them, trailing slashes included).
const token = { authorization: `Token ${auth ? adminKey : "any-key-0001"}` };
await check("GET", "/v1/ping", "/v1/ping/", { headers: token, status: 200 });
const m0 = await check("POST", "/v3/memories/add", "/v3/memories/add/", {
    headers: token,
    body: { messages: [{ role: "user", content: "I moved to Lisbon last year" }], user_id: "alice", run_id: "c1" },
    status: 200,
});
await check("POST", "/v3/memories/add", "/v3/memories/add/", {
    headers: token,
    body: { messages: "My favourite colour is green", user_id: "alice", infer: false, metadata: { src: "t" } },
    status: 200,
});
await check("POST", "/v3/memories/add", "/v3/memories/add/", {
    headers: token,
    body: { messages: "x", user_id: "alice", colour: "green" },
    status: 400,
    badBody: true,
});
const page = await check("POST", "/v3/memories", "/v3/memories/?page=1&page_size=10", {
    headers: token,
    body: { filters: { user_id: "alice" } },
    status: 200,
});
assert.ok(page.results.length >= 1, "getAll finds alice's memories");
const memoryId = page.results[0].id;
await check("POST", "/v3/memories/search", "/v3/memories/search/", {
    headers: token,
    body: { query: "where do I live", filters: { user_id: "alice" } },
    status: 200,
});
await check("GET", "/v1/memories/{id}", `/v1/memories/${memoryId}/`, { headers: token, status: 200 });
await check("PUT", "/v1/memories/{id}", `/v1/memories/${memoryId}/`, {
    headers: token,
    body: { text: "I moved to Porto last year" },
    status: 200,
});
await check("GET", "/v1/memories/{id}/history", `/v1/memories/${memoryId}/history/`, { headers: token, status: 200 });
await check("GET", "/v1/memories/{id}", "/v1/memories/n_nothing/", { headers: token, status: 404 });
await check("GET", "/v1/entities", "/v1/entities/", { headers: token, status: 200 });
if (m0.event_id) {
    await check("GET", "/v1/event/{id}", `/v1/event/${m0.event_id}/`, { headers: token, status: 200 });
}
await check("DELETE", "/v1/memories/{id}", `/v1/memories/${memoryId}/`, { headers: token, status: 200 });
await check("DELETE", "/v1/memories", "/v1/memories/?user_id=alice&run_id=c1", { headers: token, status: 200 });
await check("DELETE", "/v1/entities/{type}/{name}", "/v1/entities/user/alice/", { headers: token, status: 200 });
await check("DELETE", "/v2/entities/{type}/{name}", "/v2/entities/user/alice/", { headers: token, status: 404 });

// With API keys: a missing or unknown key, and a key for other cubes, get the documented 401 and 403.
if (auth) {
    for (const headers of [{ authorization: "" }, { authorization: "Bearer not-a-key-0000" }]) {
        await check("GET", "/v1/cubes", "/v1/cubes", { headers, status: 401 });
        assert.equal(lastHeaders.get("www-authenticate"), "Bearer");
        await check("POST", "/v1/cubes/{cube}/search", "/v1/cubes/demo-copy/search", {
            headers,
            body: { query: "x" },
            status: 401,
        });
        await check("GET", "/v1/ping", "/v1/ping/", { headers, status: 401 });
    }
    const alice = { authorization: `Bearer ${aliceKey}` };
    await check("GET", "/v1/cubes/{cube}", "/v1/cubes/demo-copy", { headers: alice, status: 403 });
    await check("POST", "/v1/cubes", "/v1/cubes", { headers: alice, body: { id: "bob" }, status: 403 });
    await check("GET", "/v1/jobs/{id}", `/v1/jobs/${added.job_id}`, { headers: alice, status: 404 });
    await check("POST", "/v3/memories/add", "/v3/memories/add/", {
        headers: { authorization: `Token ${aliceKey}` },
        body: { messages: "x", user_id: "bob", infer: false },
        status: 403,
    });
    await check("POST", "/v1/chat/completions", "/v1/chat/completions", {
        headers: { ...alice, "x-kasten-cube": "demo-copy" },
        body: { messages: [{ role: "user", content: "hi" }], max_tokens: 2 },
        status: 403,
    });
    await check("GET", "/openapi.json", "/openapi.json", { headers: { authorization: "" }, status: 200 });
}

// Unknown routes answer the documented error body too.
const unknown = await fetch(`${base}/v1/nothing`, { headers: defaultHeaders });
assert.equal(unknown.status, 404);
const validateError = ajv.getSchema("openapi#/components/schemas/Error");
assert.ok(validateError(await unknown.json()), JSON.stringify(validateError.errors));

console.log(`${checked} answers match their documented schemas`);
