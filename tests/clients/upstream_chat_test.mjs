// kasten as a memory proxy: a second `kasten serve --model stories260K` is the upstream OpenAI-compatible server,
// and the test server (started here with --upstream) adds memory in front of it. Driven by the official SDK.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, existsSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import OpenAI from "openai";

const bin = process.env.KASTEN_BIN;
const model = join(dirname(fileURLToPath(import.meta.url)), "../../data/models/stories260K/stories260K-tok512.gguf");
const work = mkdtempSync(join(tmpdir(), "kasten-upstream-"));
const children = [];

async function serve(name, args) {
    const portFile = join(work, `${name}.port`);
    const child = spawn(bin, ["serve", "--data-dir", join(work, name), "--port", "0", "--port-file", portFile,
                              "--embedder", "hashing", ...args], { stdio: ["ignore", "ignore", "inherit"] });
    children.push(child);
    for (let i = 0; i < 300 && !existsSync(portFile); i++) await new Promise((r) => setTimeout(r, 100));
    assert.ok(existsSync(portFile), `${name} did not start`);
    return `http://127.0.0.1:${readFileSync(portFile, "utf8").trim()}`;
}

try {
    const upstream = await serve("upstream", ["--model", model, "--ctx", "512"]);
    const proxy = await serve("proxy", ["--upstream", `${upstream}/v1`, "--upstream-model", "stories260K",
                                        "--context-budget", "64"]);
    const client = new OpenAI({ baseURL: `${proxy}/v1`, apiKey: "unused", maxRetries: 0 });

    const chat = await client.chat.completions.create({
        model: "ignored",
        user: "erin",
        messages: [{ role: "user", content: "Once upon a time there was a red fox." }],
        max_tokens: 12,
        temperature: 0,
    });
    const text = chat.choices[0].message.content;
    assert.ok(text.length > 0);
    assert.ok(chat.usage.completion_tokens > 0);

    let streamed = "";
    const stream = await client.chat.completions.create({
        model: "ignored",
        user: "erin",
        messages: [{ role: "user", content: "The fox ran into the forest." }],
        max_tokens: 12,
        temperature: 0,
        stream: true,
    });
    for await (const chunk of stream) streamed += chunk.choices[0]?.delta?.content ?? "";
    assert.ok(streamed.length > 0);

    // Both exchanges, questions and the upstream's answers, are in the proxy's memory.
    const turns = (await (await fetch(`${proxy}/v1/cubes/user:erin/turns?limit=100`)).json()).turns;
    assert.ok(turns.some((t) => t.role === "user" && t.content.includes("red fox")));
    assert.ok(turns.some((t) => t.role === "assistant" && t.content === text), JSON.stringify(turns));
    assert.ok(turns.some((t) => t.role === "assistant" && t.content === streamed), JSON.stringify(turns));
    // The upstream itself stored nothing: it was called without a user.
    const upstreamCubes = (await (await fetch(`${upstream}/v1/cubes`)).json()).cubes;
    assert.equal(upstreamCubes.length, 0);
    console.log("upstream chat: proxied, streamed and remembered");
} finally {
    for (const c of children) c.kill("SIGTERM");
    await new Promise((r) => setTimeout(r, 300));
    rmSync(work, { recursive: true, force: true });
}
