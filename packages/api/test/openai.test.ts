import { test } from "node:test";
import assert from "node:assert/strict";
import { LilyError, parse } from "@lily/protocol";
import { ChatCompletionRequest, CompletionRequest, EmbeddingRequest, HttpRefusal, openAIError, readSse } from "../src/index.ts";

const refusal = (schema: Parameters<typeof parse>[0], body: unknown): LilyError => {
  try {
    parse(schema, body, "body");
  } catch (e) {
    return e as LilyError;
  }
  assert.fail("the body was accepted");
};

test("a chat request with a wrong type is refused naming the field, as OpenAI's param", () => {
  for (const [body, param] of [
    [{ model: "tiny", messages: [] }, "messages"],
    [{ model: "tiny", messages: [{ role: "user", content: 5 }] }, "messages.0.content"],
    [{ model: "tiny", messages: [{ role: "wizard", content: "hi" }] }, "messages.0.role"],
    [{ model: "tiny", messages: [{ role: "user", content: "hi" }], temperature: 3 }, "temperature"],
    [{ model: "tiny", messages: [{ role: "user", content: "hi" }], max_tokens: 0 }, "max_tokens"],
    [{ model: "tiny", messages: [{ role: "user", content: "hi" }], n: 2 }, "n"],
    [{ model: "tiny", messages: [{ role: "user", content: "hi" }], tools: [] }, "tools"],
    [{ messages: [{ role: "user", content: "hi" }] }, "model"],
  ] as const) {
    const { status, body: out } = openAIError(refusal(ChatCompletionRequest, body));
    assert.equal(status, 400, JSON.stringify(body));
    assert.equal(out.error.param, param, JSON.stringify(body));
    assert.equal(out.error.type, "invalid_request_error");
  }
});

test("completions and embeddings requests take OpenAI's forms and refuse more than one prompt", () => {
  assert.equal(parse(CompletionRequest, { model: "m", prompt: ["one"] }, "body").prompt.length, 1);
  assert.equal(openAIError(refusal(CompletionRequest, { model: "m", prompt: ["a", "b"] })).body.error.param, "prompt");
  assert.deepEqual(parse(EmbeddingRequest, { model: "m", input: "x" }, "body").input, "x");
  assert.equal(openAIError(refusal(EmbeddingRequest, { model: "m", input: [] })).body.error.param, "input");
});

test("Lily's errors become OpenAI's statuses, types and codes, with retry-after on rate limits", () => {
  const cases: [LilyError, number, string, string | null][] = [
    [new LilyError({ code: "UNAUTHORIZED", message: "no key" }), 401, "authentication_error", "invalid_api_key"],
    [new LilyError({ code: "FORBIDDEN", message: "not yours" }), 403, "permission_error", "forbidden"],
    [new LilyError({ code: "UNKNOWN_MODULE", field: "model", message: "no such model" }), 404, "invalid_request_error", "model_not_found"],
    [new LilyError({ code: "QUOTA_EXCEEDED", message: "limit" }), 429, "insufficient_quota", "insufficient_quota"],
    [new LilyError({ code: "RATE_LIMITED", message: "slow down", details: { retryAfterSeconds: 2.2 } }), 429, "rate_limit_error", "rate_limit_exceeded"],
    [new HttpRefusal(405, { code: "INVALID_INPUT", message: "method" }, { allow: "POST" }), 405, "invalid_request_error", "invalid_input"],
  ];
  for (const [err, status, type, code] of cases) {
    const out = openAIError(err);
    assert.equal(out.status, status, err.code);
    assert.equal(out.body.error.type, type, err.code);
    assert.equal(out.body.error.code, code, err.code);
  }
  assert.equal(openAIError(cases[4]![0]).headers["retry-after"], "3");
  assert.equal(openAIError(cases[5]![0]).headers.allow, "POST");
  assert.equal(openAIError(new Error("boom")).status, 500);
});

test("server-sent events are read back whole, however the bytes were split", async () => {
  const text = 'event: token\ndata: {"text":"a"}\n\n: a comment\ndata: line one\ndata: line two\n\r\ndata: [DONE]\n\n';
  const bytes = new TextEncoder().encode(text);
  for (const size of [1, 3, 7, bytes.length]) {
    async function* chunks() {
      for (let i = 0; i < bytes.length; i += size) yield bytes.slice(i, i + size);
    }
    const events = [];
    for await (const ev of readSse(chunks())) events.push(ev);
    assert.deepEqual(
      events,
      [
        { event: "token", data: '{"text":"a"}' },
        { event: undefined, data: "line one\nline two" },
        { event: undefined, data: "[DONE]" },
      ],
      `chunks of ${size}`,
    );
  }
});
