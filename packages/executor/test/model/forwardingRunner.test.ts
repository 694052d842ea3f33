import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { type InferenceResponse, isLilyError } from "@lily/protocol";
import { createForwardingRunner } from "../../src/model/forwardingRunner.ts";
import { createLlamaRunner } from "../../src/model/llamaRunner.ts";
import type { ModelRunner } from "../../src/model/modelRunner.ts";
import { type OpenAIServer, serveOpenAI } from "../../src/model/openaiServer.ts";
import { chatRequest, completionRequest, tinyModelPath } from "./tinyModelFile.ts";

const MODEL = "tiny";
let local: ModelRunner;
/** What the server's runner answered, last first: the server side of each forwarded request. */
const served: InferenceResponse[] = [];
let server: OpenAIServer;
let forwarding: ModelRunner;

before(async () => {
  local = await createLlamaRunner({ modelPath: tinyModelPath(), parallel: 2 });
  // The server runs the real runner; this wrapper only records what each generation returned.
  const recording: ModelRunner = {
    ...local,
    generate: async (r, o) => {
      const out = await local.generate(r, o);
      served.unshift(out);
      return out;
    },
  };
  server = await serveOpenAI(recording, { host: "127.0.0.1", port: 0, modelName: MODEL });
  forwarding = createForwardingRunner({ baseUrl: `${server.url}/v1`, model: MODEL, contextLength: 512, embeddings: true });
});
after(async () => {
  await server.close();
  await local.close();
});

async function waitFor(done: () => boolean): Promise<void> {
  while (!done()) await sleep(5);
}

for (const [kind, request, finish] of [
  ["completion", completionRequest("Once upon a time", { maxTokens: 50 }), "length"],
  ["chat", chatRequest("Tell me a story", { maxTokens: 50 }), "length"],
  ["completion with a stop sequence", completionRequest("Lorem ipsum", { maxTokens: 50, stop: ["MO7"] }), "stop"],
] as const) {
  test(`a ${kind} forwarded through serveOpenAI gives the in-process runner's answer at temperature 0, streamed`, async () => {
    const direct = await local.generate(request);
    assert.equal(direct.finishReason, finish);
    const pieces: string[] = [];
    const forwarded = await forwarding.generate(request, { onText: (t) => pieces.push(t) });
    assert.deepEqual(forwarded, direct);
    assert.ok(pieces.length > 1);
    assert.equal(pieces.join(""), direct.text);
  });
}

test("the forwarding runner counts prompts as the model does", async () => {
  for (const request of [completionRequest("count these tokens"), chatRequest("and these")]) {
    assert.equal(await forwarding.countInputTokens(request), await local.countInputTokens(request));
  }
});

test("aborting a forwarded generation stops it and reports aborted with the pieces received", { timeout: 30_000 }, async () => {
  const controller = new AbortController();
  let pieces = 0;
  const out = await forwarding.generate(completionRequest("Once upon a time", { maxTokens: 450 }), {
    signal: controller.signal,
    onText: () => {
      if (++pieces === 3) controller.abort();
    },
  });
  assert.equal(out.finishReason, "aborted");
  assert.equal(out.outputTokens, 3);
  assert.equal(out.inputTokens, await local.countInputTokens(completionRequest("Once upon a time")));
  // The server saw the hang-up and stopped generating: its own answer ended aborted, well short.
  await waitFor(() => served.length > 0 && served[0]!.finishReason === "aborted");
  assert.ok(served[0]!.outputTokens < 450);
});

test("forwarded embeddings equal the model's own", async () => {
  const direct = await local.embed(["hello", "world"]);
  assert.deepEqual(await forwarding.embed(["hello", "world"]), direct);
});

test("a forwarded request for a model the server does not run is UNKNOWN_MODULE", async () => {
  const wrong = createForwardingRunner({ baseUrl: server.url, model: "other" });
  await assert.rejects(wrong.generate(completionRequest("x")), (e) => isLilyError(e, "UNKNOWN_MODULE") && e.field === "model");
});

test("a server that is not there is UNREACHABLE", async () => {
  const gone = createForwardingRunner({ baseUrl: "http://127.0.0.1:9", model: MODEL });
  await assert.rejects(gone.generate(completionRequest("x")), (e) => isLilyError(e, "UNREACHABLE"));
});
