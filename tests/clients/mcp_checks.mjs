// Checks shared by the MCP client tests (mcp_stdio_test.mjs, mcp_http_test.mjs): every kasten tool called through
// the official MCP TypeScript SDK, and its effect checked with the other tools.
import assert from "node:assert/strict";

export const kToolNames = [
    "add_memory",
    "delete_memory",
    "get_context",
    "get_memory",
    "list_memories",
    "memory_history",
    "search_memories",
    "update_memory",
];

// A tool call that must succeed: its structuredContent, checked against the text content.
export async function ok(client, name, args) {
    const result = await client.callTool({ name, arguments: args });
    assert.equal(result.isError, false, `${name} ${JSON.stringify(args)} -> ${JSON.stringify(result)}`);
    assert.equal(result.content[0].type, "text");
    if (name === "get_context") assert.equal(result.content[0].text, result.structuredContent.text);
    else assert.deepEqual(JSON.parse(result.content[0].text), result.structuredContent);
    return result.structuredContent;
}

// A tool call that must fail as a tool error (not a protocol error): its error type and message.
export async function toolError(client, name, args) {
    const result = await client.callTool({ name, arguments: args });
    assert.equal(result.isError, true, `${name} ${JSON.stringify(args)} should fail: ${JSON.stringify(result)}`);
    return { ...result.structuredContent.error, text: result.content[0].text };
}

// The cube's active notes, once notes built from every turn in `turnIds` are there (note jobs run in order in the
// background, so the last turn's note means every earlier job is done too).
async function waitForNotes(client, cube, turnIds, timeoutMs = 30000) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
        const listed = await ok(client, "list_memories", { cube, what: "notes", status: "active" });
        const sources = new Set(listed.memories.flatMap((n) => n.source_turn_ids));
        if (turnIds.every((t) => sources.has(t))) return listed.memories;
        if (Date.now() > deadline) throw new Error(`no note was built in cube ${cube} within ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 200));
    }
}

// Runs every tool on `cube` (the server's default cube when `cube` is undefined) and checks what each did.
export async function exerciseTools(client, cube) {
    const inCube = (args) => (cube === undefined ? args : { cube, ...args });
    const info = client.getServerVersion();
    assert.equal(info.name, "kasten");
    await client.ping();

    const { tools } = await client.listTools();
    assert.deepEqual(tools.map((t) => t.name).sort(), kToolNames);
    for (const t of tools) {
        assert.equal(t.inputSchema.type, "object", t.name);
        assert.equal(t.inputSchema.properties.cube.type, "string", t.name);
    }

    // add_memory: one text, then more messages into the same session.
    const first = await ok(client, "add_memory", inCube({ text: "I adopted a beagle named Biscuit", session_id: "pets" }));
    assert.equal(first.session_id, "pets");
    assert.equal(first.turn_ids.length, 1);
    assert.ok(first.turn_ids[0].startsWith("t_"));
    assert.equal(typeof first.job_id, "string"); // notes are built (heuristic) by a background job
    const usedCube = first.cube;
    const more = await ok(
        client,
        "add_memory",
        inCube({
            session_id: "pets",
            messages: [
                { role: "assistant", content: "What a lovely name for a beagle!" },
                { role: "user", content: "I park my car on level four at work", time: "2024-05-30T14:00:00Z" },
            ],
        }),
    );
    assert.equal(more.turn_ids.length, 2);

    // search_memories finds the added turns.
    const dog = await ok(client, "search_memories", inCube({ query: "which pet did I adopt, Biscuit?", top_k: 3 }));
    assert.equal(dog.cube, usedCube);
    assert.ok(dog.hits.length > 0);
    assert.equal(dog.hits[0].id, first.turn_ids[0]);
    assert.match(dog.hits[0].text, /Biscuit/);
    const session = await ok(client, "search_memories", inCube({ query: "beagle", granularity: "session" }));
    assert.equal(session.hits[0].id, "pets");

    // get_context: the packed memory for a query, as text ready for the model.
    const context = await client.callTool({ name: "get_context", arguments: inCube({ query: "what is my dog's name?" }) });
    assert.equal(context.isError, false, JSON.stringify(context));
    assert.equal(context.structuredContent.mode, "full"); // three turns fit the default budget
    assert.equal(context.content[0].text, context.structuredContent.text);
    assert.match(context.content[0].text, /Biscuit/);
    assert.ok(context.structuredContent.tokens <= context.structuredContent.budget);
    const packed = await ok(
        client,
        "get_context",
        inCube({ query: "where do I park my car?", full_history: false, token_budget: 80, strategy: "turn" }),
    );
    assert.equal(packed.mode, "packed");
    assert.ok(packed.tokens <= 80);
    assert.match(packed.text, /level four/);

    // list_memories: turns and sessions now, notes once the background job built them.
    const turns = await ok(client, "list_memories", inCube({ what: "turns" }));
    assert.equal(turns.turns.length, 3);
    const sessions = await ok(client, "list_memories", inCube({ what: "sessions" }));
    assert.deepEqual(
        sessions.sessions.map((s) => s.session_id),
        ["pets"],
    );
    const notes = await waitForNotes(client, usedCube, [first.turn_ids[0], more.turn_ids[1]]);
    const biscuit = notes.find((n) => /Biscuit/.test(n.content));
    assert.ok(biscuit, `a note about Biscuit: ${JSON.stringify(notes)}`);
    assert.ok(biscuit.source_turn_ids.includes(first.turn_ids[0]));

    // get_memory: a note and a turn.
    const gotNote = await ok(client, "get_memory", inCube({ id: biscuit.id }));
    assert.equal(gotNote.type, "note");
    assert.equal(gotNote.note.content, biscuit.content);
    const gotTurn = await ok(client, "get_memory", inCube({ id: first.turn_ids[0] }));
    assert.equal(gotTurn.turn.content, "I adopted a beagle named Biscuit");

    // update_memory changes the note and its history.
    const updated = await ok(
        client,
        "update_memory",
        inCube({ id: biscuit.id, content: "The user has a basset hound named Biscuit", reason: "correction" }),
    );
    assert.equal(updated.note.content, "The user has a basset hound named Biscuit");
    assert.equal(updated.note.version, biscuit.version + 1);
    const history = await ok(client, "memory_history", inCube({ id: biscuit.id }));
    assert.equal(history.note_id, biscuit.id);
    assert.equal(history.versions.length, biscuit.version + 1);
    assert.equal(history.versions.at(-1).content, "The user has a basset hound named Biscuit");
    assert.equal(history.versions.at(-1).reason, "correction");
    assert.equal(history.versions.at(-2).content, biscuit.content);
    const hound = await ok(client, "search_memories", inCube({ query: "basset hound", granularity: "note" }));
    assert.equal(hound.hits[0].id, biscuit.id);

    // delete_memory removes the note, then a turn.
    const deleted = await ok(client, "delete_memory", inCube({ id: biscuit.id }));
    assert.deepEqual(deleted, { cube: usedCube, type: "note", id: biscuit.id, deleted: true });
    const gone = await toolError(client, "get_memory", inCube({ id: biscuit.id }));
    assert.equal(gone.type, "not_found");
    const afterNote = await ok(client, "search_memories", inCube({ query: "basset hound", granularity: "note" }));
    assert.ok(!afterNote.hits.some((h) => h.id === biscuit.id));
    const parking = more.turn_ids[1];
    const park = await ok(client, "search_memories", inCube({ query: "where do I park my car" }));
    assert.equal(park.hits[0].id, parking);
    await ok(client, "delete_memory", inCube({ id: parking }));
    const afterTurn = await ok(client, "search_memories", inCube({ query: "where do I park my car" }));
    assert.ok(!afterTurn.hits.some((h) => h.id === parking));
    assert.equal((await ok(client, "list_memories", inCube({ what: "turns" }))).turns.length, 2);

    // Bad arguments are tool errors that name the argument.
    const unknown = await toolError(client, "search_memories", inCube({ query: "x", colour: "red" }));
    assert.equal(unknown.type, "invalid_argument");
    assert.match(unknown.message, /colour/);
    const badTime = await toolError(client, "add_memory", inCube({ text: "x", time: "noon" }));
    assert.match(badTime.message, /'time'/);
    return usedCube;
}
