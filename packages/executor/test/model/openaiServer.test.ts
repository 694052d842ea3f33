import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import OpenAI from "openai";
import { createLlamaRunner } from "../../src/model/llamaRunner.ts";
import type { ModelRunner } from "../../src/model/modelRunner.ts";
import { type OpenAIServer, serveOpenAI } from "../../src/model/openaiServer.ts";
import { tinyModelPath } from "./tinyModelFile.ts";

const MODEL = "tiny";
let runner: ModelRunner;
let server: OpenAIServer;
let client: OpenAI;

before(async () => {
  runner = await createLlamaRunner({ modelPath: tinyModelPath() });
  server = await serveOpenAI(runner, { host: "127.0.0.1", port: 0, modelName: MODEL });
  client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: "unused", maxRetries: 0 });
});
after(async () => {
  await server.close();
  await runner.close();
});

test("GET /v1/models lists the one model served", async () => {
  const models = await client.models.list();
  assert.deepEqual(
    models.data.map((m) => m.id),
    [MODEL],
  );
});

test("a chat completion streams chunks, then a usage chunk, and matches the whole answer", async () => {
  const ask = { model: MODEL, messages: [{ role: "user" as const, content: "Hi" }], max_tokens: 20, temperature: 0, seed: 1 };
  const whole = await client.chat.completions.create(ask);
  const stream = await client.chat.completions.create({ ...ask, stream: true, stream_options: { include_usage: true } });
  let text = "";
  let chunks = 0;
  let finish: string | null = null;
  let usage: OpenAI.CompletionUsage | null | undefined;
  for await (const chunk of stream) {
    chunks++;
    text += chunk.choices[0]?.delta.content ?? "";
    finish = chunk.choices[0]?.finish_reason ?? finish;
    if (chunk.usage) usage = chunk.usage;
  }
  assert.ok(chunks > 3);
  assert.equal(text, whole.choices[0]!.message.content);
  assert.equal(finish, "length");
  assert.equal(whole.choices[0]!.finish_reason, "length");
  assert.deepEqual(usage, whole.usage);
  assert.equal(whole.usage!.completion_tokens, 20);
});

test("a text completion streams and ends with [DONE]", async () => {
  const res = await fetch(`${server.url}/v1/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model: MODEL, prompt: "Once", max_tokens: 5, temperature: 0, stream: true }),
  });
  const body = await res.text();
  assert.match(res.headers.get("content-type") ?? "", /text\/event-stream/);
  assert.ok(body.trimEnd().endsWith("data: [DONE]"));
  assert.equal(body.match(/"object":"text_completion"/g)?.length, 6);
  const whole = await client.completions.create({ model: MODEL, prompt: "Once", max_tokens: 5, temperature: 0 });
  assert.equal(whole.usage!.completion_tokens, 5);
});

test("embeddings come back one per input with the model's dimension", async () => {
  const out = await client.embeddings.create({ model: MODEL, input: ["one", "two"] });
  assert.equal(out.data.length, 2);
  assert.equal(out.data[0]!.embedding.length, 64);
});

for (const [what, call, status, param] of [
  ["an unknown model", () => client.chat.completions.create({ model: "nope", messages: [{ role: "user", content: "x" }] }), 404, "model"],
  ["a wrong type", () => client.completions.create({ model: MODEL, prompt: "x", temperature: "hot" as unknown as number }), 400, "temperature"],
  ["a prompt over the context", () => client.completions.create({ model: MODEL, prompt: "z".repeat(600), stream: true }), 400, "prompt"],
] as const) {
  test(`${what} is refused with status ${status} in OpenAI's error shape naming ${param}`, async () => {
    await assert.rejects(call(), (e) => e instanceof OpenAI.APIError && e.status === status && e.param === param);
  });
}
