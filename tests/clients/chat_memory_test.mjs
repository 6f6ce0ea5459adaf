// Chat with memory through the official `openai` SDK, against `kasten serve` without a model: the extractive
// answerer. `user` selects the cube; the exchange is remembered and answers a later question.
import assert from "node:assert/strict";
import OpenAI from "openai";

const base = process.env.KASTEN_URL;
const client = new OpenAI({ baseURL: `${base}/v1`, apiKey: "unused", maxRetries: 0 });

// A first conversation tells kasten a fact.
const first = await client.chat.completions
    .create({
        model: "any",
        user: "carol",
        metadata: { conversation_id: "c1" },
        messages: [{ role: "user", content: "My bicycle is a green Gazelle that I keep in the basement." }],
    })
    .withResponse();
assert.equal(first.response.headers.get("x-kasten-cube"), "user:carol");
assert.equal(first.response.headers.get("x-kasten-session"), "c1");
assert.match(first.data.choices[0].message.content, /^\(extractive answer/);

// The turns are in the cube.
const turns = await (await fetch(`${base}/v1/cubes/user:carol/turns`)).json();
assert.ok(turns.turns.some((t) => t.content.includes("green Gazelle")), JSON.stringify(turns));
assert.ok(!turns.turns.some((t) => t.role === "assistant"), "extractive answers are not stored");

// A later conversation (streamed, with usage) is answered from memory, and says it is extractive.
let answer = "";
let usage = null;
const stream = await client.chat.completions.create({
    model: "any",
    user: "carol",
    metadata: { conversation_id: "c2" },
    messages: [
        { role: "system", content: "Answer briefly." },
        { role: "user", content: "What colour is my bicycle?" },
    ],
    stream: true,
    stream_options: { include_usage: true },
});
for await (const chunk of stream) {
    answer += chunk.choices[0]?.delta?.content ?? "";
    if (chunk.usage) usage = chunk.usage;
}
assert.match(answer, /extractive answer/);
assert.ok(answer.includes("My bicycle is a green Gazelle that I keep in the basement."), answer);
assert.ok(usage && usage.total_tokens > 0);

// The X-Kasten-Cube header names a cube directly; another user's cube stays apart.
const other = await client.chat.completions.create(
    { model: "any", messages: [{ role: "user", content: "What colour is my bicycle?" }] },
    { headers: { "X-Kasten-Cube": "dave" } },
);
assert.match(other.choices[0].message.content, /found nothing in memory/);

// The packed context for the question, as the REST route gives it.
const ctx = await (
    await fetch(`${base}/v1/cubes/user:carol/context`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ query: "what colour is my bicycle", token_budget: 200 }),
    })
).json();
assert.ok(ctx.tokens > 0 && ctx.tokens <= 200, JSON.stringify(ctx));
assert.ok(ctx.text.includes("green Gazelle"));
console.log("chat with memory: remembered, recalled, extractive, per-user cubes");
