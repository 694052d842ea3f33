// The forwarding path through the gateway: Lily's own model server (`lily model serve`, serveOpenAI
// over the tiny GGUF run in-process) stands in for the Ollama or vLLM a provider already runs; the
// provider serves the model by forwarding to it (a model source of kind "server"); and an answer
// through the gateway at temperature 0 is the very text the in-process runner gives.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { parseEther } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { createLlamaRunner, serveOpenAI, type ModelRunner, type OpenAIServer } from "@lily/executor";
import { TINY_MODEL_PATH } from "@lily/modules/tinyModel";
import type { InferenceRequest } from "@lily/protocol";
import type { RunningProvider } from "@lily/provider";
import { createKey, openai, signIn, startGatewayNetwork, type GatewayNetwork, type PublishedModel } from "./network.ts";

let net: GatewayNetwork;
let runner: ModelRunner;
let server: OpenAIServer;
let model: PublishedModel;
let provider: RunningProvider;
let gatewayUrl: string;
let key: string;

before(async () => {
  net = await startGatewayNetwork("forwarding");
  runner = await createLlamaRunner({ modelPath: TINY_MODEL_PATH, contextLength: 512 });
  net.onStop(() => runner.close());
  model = await net.publishModel("tiny-served");
  server = await serveOpenAI(runner, { host: "127.0.0.1", port: 0, modelName: model.name, modelCid: model.cid });
  net.onStop(() => server.close());
  const party = await net.party("forwarding provider", { leasesDeposit: parseEther("10") });
  provider = await net.startProvider(party, model, { source: { kind: "server", baseUrl: `${server.url}/v1` } });
  const payer = await net.party("forwarding gateway", { leasesDeposit: parseEther("10") });
  const gateway = await net.startGateway(payer.account!);
  gatewayUrl = gateway.url;
  const user = privateKeyToAccount(`0x${"f0".repeat(32)}`);
  key = (await createKey(gateway.url, await signIn(gateway.url, user, net.endpoints.chainId))).key;
});
after(() => net?.stop());

/** The request the gateway sends for these answers, as the runner takes it (every default explicit). */
const sampling = () => ({ model: model.cid, temperature: 0, topP: 1, seed: 11, stop: [] as string[] });

test("a chat answer through the gateway and a forwarding provider is the in-process runner's answer", async () => {
  const messages = [{ role: "user" as const, content: "Tell me about the sea." }];
  const { data, response } = await openai(gatewayUrl, key)
    .chat.completions.create({ model: model.ref, messages, temperature: 0, seed: 11, max_tokens: 20 })
    .withResponse();
  assert.equal(response.headers.get("x-lily-provider"), provider.address, "the forwarding provider answered");
  const direct = await runner.generate({ ...sampling(), kind: "chat", messages, maxTokens: 20 } as InferenceRequest);
  assert.ok(direct.text.length > 0);
  assert.equal(data.choices[0]!.message.content, direct.text);
  assert.equal(data.usage!.completion_tokens, direct.outputTokens);
  assert.equal(data.usage!.prompt_tokens, direct.inputTokens);
});

test("a streamed completion through the gateway spells the in-process runner's answer", async () => {
  const stream = await openai(gatewayUrl, key).completions.create({
    model: model.ref,
    prompt: "Once upon a time",
    max_tokens: 16,
    temperature: 0,
    seed: 11,
    stream: true,
  });
  const pieces: string[] = [];
  for await (const chunk of stream) if (chunk.choices[0]?.text) pieces.push(chunk.choices[0].text);
  const direct = await runner.generate({ ...sampling(), kind: "completion", prompt: "Once upon a time", maxTokens: 16 } as InferenceRequest);
  assert.ok(pieces.length > 1, `the answer came in pieces (${pieces.length})`);
  assert.equal(pieces.join(""), direct.text);
});
