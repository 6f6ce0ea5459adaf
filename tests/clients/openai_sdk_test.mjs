// The official `openai` SDK against `kasten serve --model stories260K` (see CMakeLists.txt).
import assert from "node:assert/strict";
import OpenAI from "openai";

const client = new OpenAI({ baseURL: `${process.env.KASTEN_URL}/v1`, apiKey: "unused", maxRetries: 0 });

const chat = await client.chat.completions.create({
    model: "stories260K",
    messages: [{ role: "user", content: "Once upon a time" }],
    max_tokens: 16,
    temperature: 0,
});
assert.equal(chat.object, "chat.completion");
assert.equal(chat.choices.length, 1);
assert.equal(typeof chat.choices[0].message.content, "string");
assert.ok(chat.usage.completion_tokens > 0);

let streamed = "";
const stream = await client.chat.completions.create({
    model: "stories260K",
    messages: [{ role: "user", content: "Once upon a time" }],
    max_tokens: 16,
    temperature: 0,
    stream: true,
});
for await (const chunk of stream) streamed += chunk.choices[0]?.delta?.content ?? "";
assert.equal(streamed, chat.choices[0].message.content);
console.log("openai SDK: chat and streamed chat agree");

// stream_options.include_usage: the usage arrives in a last chunk without choices, and only there.
const usageChunks = [];
let usageText = "";
const usageStream = await client.chat.completions.create({
    model: "stories260K",
    messages: [{ role: "user", content: "Once upon a time" }],
    max_completion_tokens: 12,
    temperature: 0,
    stream: true,
    stream_options: { include_usage: true },
});
for await (const chunk of usageStream) {
    usageText += chunk.choices[0]?.delta?.content ?? "";
    if (chunk.usage) usageChunks.push(chunk);
}
assert.equal(usageChunks.length, 1);
assert.deepEqual(usageChunks[0].choices, []);
assert.ok(usageChunks[0].usage.completion_tokens > 0 && usageChunks[0].usage.completion_tokens <= 12);
assert.equal(usageChunks[0].usage.total_tokens, usageChunks[0].usage.prompt_tokens + usageChunks[0].usage.completion_tokens);
assert.equal(usageText, chat.choices[0].message.content.slice(0, usageText.length));
console.log("openai SDK: stream_options.include_usage delivers one usage chunk");

// max_completion_tokens bounds the completion; user, metadata, store and other OpenAI fields are accepted.
const bounded = await client.chat.completions.create({
    model: "stories260K",
    messages: [
        { role: "developer", content: "Tell a story." },
        { role: "user", content: [{ type: "text", text: "Once upon a time" }], name: "ann" },
    ],
    max_completion_tokens: 5,
    temperature: 0,
    user: "user-1234",
    metadata: { purpose: "test" },
    store: false,
    seed: 7,
    parallel_tool_calls: false,
    service_tier: "auto",
});
assert.ok(bounded.usage.completion_tokens <= 5);

// Penalties (OpenAI's formula, in the embedded sampler) change a greedy completion.
const baseline = await client.completions.create({
    model: "stories260K",
    prompt: "Once upon a time",
    max_tokens: 60,
    temperature: 0,
});
const penalised = await client.completions.create({
    model: "stories260K",
    prompt: "Once upon a time",
    max_tokens: 60,
    temperature: 0,
    frequency_penalty: 2,
    presence_penalty: 2,
});
assert.notEqual(penalised.choices[0].text, baseline.choices[0].text);
console.log("openai SDK: max_completion_tokens, user and penalties");

// logprobs + top_logprobs, whole and streamed.
const withLogprobs = await client.chat.completions.create({
    model: "stories260K",
    messages: [{ role: "user", content: "Once upon a time" }],
    max_tokens: 16,
    temperature: 0,
    logprobs: true,
    top_logprobs: 3,
});
const content = withLogprobs.choices[0].logprobs.content;
assert.ok(content.length > 0);
for (const t of content) {
    assert.ok(t.logprob <= 0);
    assert.equal(t.top_logprobs.length, 3);
    assert.equal(t.top_logprobs[0].token, t.token); // greedy: the chosen token is the most likely
    assert.ok(t.top_logprobs[0].logprob >= t.top_logprobs[1].logprob);
}
const joined = Buffer.from(content.flatMap((t) => t.bytes)).toString("utf8");
assert.equal(joined, withLogprobs.choices[0].message.content);
const streamedTokens = [];
const logprobStream = await client.chat.completions.create({
    model: "stories260K",
    messages: [{ role: "user", content: "Once upon a time" }],
    max_tokens: 16,
    temperature: 0,
    logprobs: true,
    top_logprobs: 3,
    stream: true,
});
for await (const chunk of logprobStream) {
    for (const t of chunk.choices[0]?.logprobs?.content ?? []) streamedTokens.push(t);
}
assert.deepEqual(streamedTokens.map((t) => t.token), content.map((t) => t.token));
assert.deepEqual(streamedTokens.map((t) => t.logprob), content.map((t) => t.logprob));
console.log(`openai SDK: logprobs for ${content.length} tokens, streamed and not`);

// response_format json_schema: constrained decoding gives JSON of the schema, even from a tiny story model.
const schema = {
    type: "object",
    properties: {
        name: { type: "string", maxLength: 12 },
        age: { type: "integer" },
        happy: { type: "boolean" },
    },
    required: ["name", "age", "happy"],
    additionalProperties: false,
};
const structured = await client.chat.completions.create({
    model: "stories260K",
    messages: [{ role: "user", content: "Describe a character" }],
    max_tokens: 64,
    temperature: 0,
    response_format: { type: "json_schema", json_schema: { name: "character", strict: true, schema } },
});
const character = JSON.parse(structured.choices[0].message.content);
assert.deepEqual(Object.keys(character), ["name", "age", "happy"]);
assert.equal(typeof character.name, "string");
assert.ok(character.name.length <= 12);
assert.ok(Number.isInteger(character.age));
assert.equal(typeof character.happy, "boolean");
const anyObject = await client.chat.completions.create({
    model: "stories260K",
    messages: [{ role: "user", content: "JSON please" }],
    max_tokens: 16,
    temperature: 0,
    response_format: { type: "json_object" },
});
assert.equal(typeof JSON.parse(anyObject.choices[0].message.content), "object");
console.log(`openai SDK: json_schema output ${structured.choices[0].message.content}`);

// models.list() / retrieve(): the language model and the embedder.
const ids = [];
for await (const m of client.models.list()) ids.push(m.id);
assert.ok(ids.includes(chat.model), ids.join(", "));
assert.ok(ids.some((id) => id.startsWith("hashing")), ids.join(", "));
assert.equal((await client.models.retrieve(chat.model)).id, chat.model);
console.log(`openai SDK: models ${ids.join(", ")}`);

// embeddings.create(): float, base64 (as the SDK requests by default and decodes) and explicit base64.
const asFloat = await client.embeddings.create({
    model: "text-embedding-3-small",
    input: ["red apples", "green pears"],
    encoding_format: "float",
});
assert.equal(asFloat.data.length, 2);
assert.equal(asFloat.data[1].index, 1);
const dim = asFloat.data[0].embedding.length;
assert.ok(dim > 0);
assert.equal(asFloat.usage.prompt_tokens, 4);
const viaDefault = await client.embeddings.create({ model: "any", input: ["red apples", "green pears"] });
assert.deepEqual(viaDefault.data.map((d) => Array.from(d.embedding)), asFloat.data.map((d) => d.embedding));
const asBase64 = await client.embeddings.create({ model: "any", input: "red apples", encoding_format: "base64" });
const raw = Buffer.from(asBase64.data[0].embedding, "base64");
const decoded = Array.from(new Float32Array(raw.buffer, raw.byteOffset, raw.length / 4));
assert.deepEqual(decoded, asFloat.data[0].embedding);
const sameDim = await client.embeddings.create({ model: "any", input: "x y", dimensions: dim, encoding_format: "float" });
assert.equal(sameDim.data[0].embedding.length, dim);
await assert.rejects(
    client.embeddings.create({ model: "any", input: "x", dimensions: dim + 1 }),
    (e) => e.status === 400,
);
console.log(`openai SDK: embeddings (dim ${dim}) float and base64 agree`);

// Refusals are 400s naming the field.
await assert.rejects(
    client.chat.completions.create({ model: "m", messages: [{ role: "user", content: "x" }], n: 2 }),
    (e) => e.status === 400 && /'n'/.test(e.message),
);
await assert.rejects(
    client.chat.completions.create({
        model: "m",
        messages: [{ role: "user", content: "x" }],
        tools: [{ type: "function", function: { name: "f", parameters: { type: "object" } } }],
    }),
    (e) => e.status === 400 && /tool-calling/.test(e.message),
);
console.log("openai SDK: n: 2 and tools answer 400");
