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
