import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { isLilyError } from "@lily/protocol";
import { createLlamaRunner } from "../../src/model/llamaRunner.ts";
import type { ModelRunner } from "../../src/model/modelRunner.ts";
import { chatRequest, completionRequest, tinyModelPath } from "./tinyModelFile.ts";

let runner: ModelRunner;

before(async () => {
  runner = await createLlamaRunner({ modelPath: tinyModelPath() });
});
after(() => runner.close());

test("generation streams more than one piece through onText before it resolves, and the pieces make the answer", async () => {
  const pieces: string[] = [];
  let resolved = false;
  const answer = runner.generate(completionRequest("Once upon a time"), { onText: (t) => pieces.push(resolved ? "late" : t) });
  const out = await answer;
  resolved = true;
  assert.ok(pieces.length > 1, `streamed ${pieces.length} pieces`);
  assert.ok(!pieces.includes("late"));
  assert.equal(pieces.join(""), out.text);
  assert.equal(out.outputTokens, 40);
});

for (const [kind, request] of [
  ["completion", completionRequest("The quick brown fox")],
  ["chat", chatRequest("Tell me a story")],
] as const) {
  test(`a ${kind} at temperature 0 is byte-identical across runs and across fresh runners`, async () => {
    const first = await runner.generate(request);
    const again = await runner.generate(request);
    const fresh = await createLlamaRunner({ modelPath: tinyModelPath() });
    try {
      const other = await fresh.generate(request);
      assert.ok(first.text.length > 0);
      assert.deepEqual(again, first);
      assert.deepEqual(other, first);
    } finally {
      await fresh.close();
    }
  });
}

test("the same seed gives the same answer at temperature 1 and another seed another answer", async () => {
  const at = (seed: number) => runner.generate(completionRequest("Hello", { temperature: 1, topP: 0.95, seed }));
  const [a, b, c] = [await at(7), await at(7), await at(8)];
  assert.equal(a.text, b.text);
  assert.notEqual(a.text, c.text);
});

test("maxTokens ends the answer with finishReason length after exactly that many tokens", async () => {
  const out = await runner.generate(completionRequest("Once", { maxTokens: 7 }));
  assert.equal(out.finishReason, "length");
  assert.equal(out.outputTokens, 7);
});

test("a stop sequence ends the answer before it, with finishReason stop", async () => {
  const free = await runner.generate(completionRequest("Lorem ipsum", { maxTokens: 60 }));
  const stop = free.text.slice(12, 15);
  const pieces: string[] = [];
  const out = await runner.generate(completionRequest("Lorem ipsum", { maxTokens: 60, stop: ["never-produced", stop] }), { onText: (t) => pieces.push(t) });
  assert.equal(out.finishReason, "stop");
  assert.equal(out.text, free.text.slice(0, free.text.indexOf(stop)));
  assert.equal(pieces.join(""), out.text);
  assert.ok(out.outputTokens < 60);
});

test("aborting mid-generation ends it with finishReason aborted, counting only the pieces produced", async () => {
  const controller = new AbortController();
  let pieces = 0;
  const out = await runner.generate(completionRequest("Once upon a time", { maxTokens: 400 }), {
    signal: controller.signal,
    onText: () => {
      if (++pieces === 5) controller.abort();
    },
  });
  assert.equal(out.finishReason, "aborted");
  assert.ok(out.outputTokens < 400);
  assert.equal(out.outputTokens, pieces);
  assert.equal(pieces, 5);
});

test("a request aborted before it starts produces nothing", async () => {
  const out = await runner.generate(completionRequest("Once"), { signal: AbortSignal.abort() });
  assert.equal(out.finishReason, "aborted");
  assert.equal(out.outputTokens, 0);
  assert.equal(out.text, "");
});

test("countInputTokens equals the inputTokens generate reports, for chats and completions", async () => {
  for (const request of [completionRequest("Count me in, héllo wörld ✓"), chatRequest("How many tokens is this?")]) {
    const counted = await runner.countInputTokens(request);
    const out = await runner.generate({ ...request, maxTokens: 2 });
    assert.equal(out.inputTokens, counted);
    assert.ok(counted > 5);
  }
});

test("a prompt longer than the context is refused before generating, naming the field", async () => {
  await assert.rejects(
    runner.generate(completionRequest("x".repeat(2000))),
    (e) => isLilyError(e, "INVALID_INPUT") && e.field === "prompt" && e.details.contextLengthExceeded === true,
  );
});

test("an answer stops at the context's end with finishReason length", async () => {
  const request = completionRequest("y".repeat(400), { maxTokens: 1000 });
  const input = await runner.countInputTokens(request);
  const out = await runner.generate(request);
  assert.equal(out.finishReason, "length");
  assert.equal(input + out.outputTokens, 512);
});

const prompts = ["alpha", "beta gamma", "delta epsilon zeta", "eta", "theta iota kappa lambda"];

for (const parallel of [1, 3]) {
  test(`concurrent generations (${prompts.length} at once, ${parallel} evaluated together) all finish with the answers they get alone`, async () => {
    const alone = [];
    for (const p of prompts) alone.push(await runner.generate(completionRequest(p, { maxTokens: 30 })));
    const shared = await createLlamaRunner({ modelPath: tinyModelPath(), parallel });
    try {
      const together = await Promise.all(prompts.map((p) => shared.generate(completionRequest(p, { maxTokens: 30 }))));
      assert.deepEqual(together, alone);
    } finally {
      await shared.close();
    }
  });
}

test("embeddings are vectors of the model's dimension, one per text, with their tokens counted", async () => {
  const out = await runner.embed(["hello", "a longer sentence to embed"]);
  assert.equal(out.vectors.length, 2);
  for (const v of out.vectors) assert.equal(v.length, 64);
  assert.notDeepEqual(out.vectors[0], out.vectors[1]);
  assert.ok(out.inputTokens > 6);
  assert.deepEqual((await runner.embed(["hello"])).vectors[0], out.vectors[0]);
});

test("a missing model file is NOT_FOUND naming modelPath", async () => {
  await assert.rejects(createLlamaRunner({ modelPath: "/nonexistent/model.gguf" }), (e) => isLilyError(e, "NOT_FOUND") && e.field === "modelPath");
});
