// Anura end to end, as a developer meets it: `lily devnet` serves a model through its providers and
// gateway; a key made with `lily keys create` works in the official `openai` client unchanged
// (streaming included); every answer carries a receipt `lily receipt verify` checks against the
// chain; bad keys, limits, unknown models, malformed bodies and oversized prompts are refused in
// OpenAI's shape before anything is paid; and a provider that dies mid-stream ends that answer
// with an error while the next request goes to another provider.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import OpenAI from "openai";
import { TINY_MODEL_PATH } from "@lily/modules/tinyModel";
import { lily, startDevnet, until, type Devnet } from "./lilyProcess.ts";

let net: Devnet;
let gatewayUrl: string;

async function createKey(extra: string[] = []): Promise<string> {
  const made = await lily(net.home, ["keys", "create", "--json", ...extra]);
  assert.equal(made.code, 0, made.stderr);
  return (JSON.parse(made.stdout) as { key: string }).key;
}

const client = (apiKey: string) => new OpenAI({ baseURL: `${gatewayUrl}/v1`, apiKey, maxRetries: 0 });
const ask = { model: "tiny", messages: [{ role: "user" as const, content: "Say something." }], temperature: 0, seed: 7, max_tokens: 24 };

before(async () => {
  net = await startDevnet(["--providers", "2"]);
  gatewayUrl = (net.network as unknown as { gatewayUrl: string }).gatewayUrl;
  assert.ok(gatewayUrl, "the devnet writes its gateway's URL to network.json");
});
after(() => net?.stop());

test("the openai client lists the model and gets the same answer at temperature 0, whole or streamed", async () => {
  const openai = client(await createKey());
  const models = await until("the tiny model on offer", async () => {
    const list = await openai.models.list();
    return list.data.some((m) => m.id === "tiny") ? list.data : undefined;
  });
  assert.ok(models.some((m) => m.id === "tiny"));

  const { data: whole, response } = await openai.chat.completions.create(ask).withResponse();
  const text = whole.choices[0]!.message.content ?? "";
  assert.ok(text.length > 0, "the model answered");
  assert.equal(whole.usage!.completion_tokens > 0, true);
  assert.ok(response.headers.get("x-lily-receipt-signature"), "the answer carries the provider's signature");
  assert.match(response.headers.get("x-lily-lease") ?? "", /^0x[0-9a-f]{64}$/);

  const again = await openai.chat.completions.create(ask);
  assert.equal(again.choices[0]!.message.content, text, "temperature 0 with one seed is deterministic across requests");

  const stream = await openai.chat.completions.create({ ...ask, stream: true, stream_options: { include_usage: true } });
  const pieces: string[] = [];
  let usage: OpenAI.CompletionUsage | undefined | null;
  for await (const chunk of stream) {
    const piece = chunk.choices[0]?.delta?.content;
    if (piece) pieces.push(piece);
    if (chunk.usage) usage = chunk.usage;
  }
  assert.ok(pieces.length > 1, `tokens arrive as they are produced, not in one chunk (got ${pieces.length})`);
  assert.equal(pieces.join(""), text, "the stream spells the same answer");
  assert.equal(usage?.completion_tokens, whole.usage!.completion_tokens);

  const completion = await openai.completions.create({ model: "tiny", prompt: "Once upon a time", max_tokens: 8, temperature: 0, seed: 1 });
  assert.equal(completion.object, "text_completion");
  assert.ok(completion.choices[0]!.text.length > 0);

  const embedded = await openai.embeddings.create({ model: "tiny", input: ["one", "two"] });
  assert.equal(embedded.data.length, 2);
  assert.ok(embedded.data[0]!.embedding.length > 0);
});

test("every answer's receipt verifies against the chain, and a tampered one does not", async () => {
  const openai = client(await createKey());
  const answer = await openai.chat.completions.create(ask);
  const verified = await lily(net.home, ["receipt", "verify", answer.id, "--json"]);
  assert.equal(verified.code, 0, verified.stderr);
  assert.equal((JSON.parse(verified.stdout) as { valid: boolean }).valid, true);
  const unknown = await lily(net.home, ["receipt", "verify", "chatcmpl-nosuchanswer"]);
  assert.notEqual(unknown.code, 0);
});

test("bad keys, unknown models, malformed bodies and oversized prompts get OpenAI's errors", async () => {
  await assert.rejects(client("lily_sk_not-a-real-key").chat.completions.create(ask), (e) => e instanceof OpenAI.AuthenticationError);
  const keyless = await fetch(`${gatewayUrl}/v1/models`);
  assert.equal(keyless.status, 401);
  assert.equal(((await keyless.json()) as { error: { type: string } }).error.type, "authentication_error");
  const openai = client(await createKey());
  await assert.rejects(openai.chat.completions.create({ ...ask, model: "no-such-model" }), (e) => e instanceof OpenAI.NotFoundError);
  await assert.rejects(
    openai.chat.completions.create({ ...ask, temperature: 9 }),
    (e) => e instanceof OpenAI.BadRequestError && (e.error as { param?: string }).param === "temperature",
  );
  await assert.rejects(
    openai.chat.completions.create({ ...ask, messages: [{ role: "user", content: "x".repeat(600_000) }] }),
    (e) => e instanceof OpenAI.BadRequestError && (e.error as { code?: string }).code === "context_length_exceeded",
  );
  await assert.rejects(
    openai.chat.completions.create({ ...ask, messages: [{ role: "user", content: "y".repeat(4000) }] }),
    (e) => e instanceof OpenAI.BadRequestError && (e.error as { code?: string }).code === "context_length_exceeded",
    "a prompt past the model's context is refused by the provider's exact count, before anything is paid",
  );
  const raw = await fetch(`${gatewayUrl}/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${await createKey()}`, "content-type": "application/json" },
    body: "{not json",
  });
  assert.equal(raw.status, 400);
});

test("a key's rate and spending limits answer 429, with retry-after for the rate", async () => {
  const slow = client(await createKey(["--rpm", "1"]));
  await slow.chat.completions.create(ask);
  await assert.rejects(slow.chat.completions.create(ask), (e) => e instanceof OpenAI.RateLimitError && Number(e.headers?.get("retry-after")) >= 1);
  const poor = client(await createKey(["--limit", "0.000000000000000001"]));
  await assert.rejects(
    poor.chat.completions.create(ask),
    (e) => e instanceof OpenAI.RateLimitError && (e.error as { type?: string }).type === "insufficient_quota",
  );
});

test("a client that goes away mid-stream is charged only for the tokens produced", async () => {
  const key = await createKey();
  const openai = client(key);
  const controller = new AbortController();
  const stream = await openai.chat.completions.create({ ...ask, max_tokens: 400, stream: true }, { signal: controller.signal });
  let seen = 0;
  try {
    for await (const chunk of stream) {
      if (chunk.choices[0]?.delta?.content) seen++;
      if (seen === 3) controller.abort();
    }
  } catch (e) {
    // The client's own abort surfaces here (or ends the loop quietly): either way it went away.
    assert.ok(controller.signal.aborted, String(e));
  }
  assert.ok(seen >= 3 && seen < 400, `the client read ${seen} pieces before leaving`);
  const usage = await until("the cut-short answer recorded", async () => {
    const res = await fetch(`${gatewayUrl}/v1/usage`, { headers: { authorization: `Bearer ${key}` } });
    const body = (await res.json()) as { models: { output_tokens: number; requests: number }[] };
    return body.models[0]?.requests === 1 ? body.models[0] : undefined;
  });
  assert.ok(usage.output_tokens < 400, `charged for ${usage.output_tokens} tokens, not the 400 asked for`);
});

test("a model creator adds a GGUF with `lily model add`; `lily model list` shows it and the devnet's own", async () => {
  const added = await lily(net.home, ["model", "add", TINY_MODEL_PATH, "--name", "tiny-copy@2.0.0", "--json"]);
  assert.equal(added.code, 0, added.stderr);
  const out = JSON.parse(added.stdout) as { ref: string; manifestCid: string; weights: string };
  assert.equal(out.ref, "tiny-copy@2.0.0");
  const listed = await lily(net.home, ["model", "list", "--json"]);
  assert.equal(listed.code, 0, listed.stderr);
  const models = JSON.parse(listed.stdout) as { name: string; version: string; contextLength: number; providers: number }[];
  assert.deepEqual(
    models.map((m) => [m.name, m.version, m.contextLength]),
    [
      ["tiny", "1.0.0", 512],
      ["tiny-copy", "2.0.0", 512],
    ],
  );
  assert.equal(models.find((m) => m.name === "tiny")?.providers, 2);
  const again = await lily(net.home, ["model", "add", TINY_MODEL_PATH, "--name", "tiny-copy@2.0.0"]);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /already added/);
  const bad = await lily(net.home, ["model", "add", join(net.home, "network.json"), "--name", "bad"]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /not a GGUF model file/);
  const modules = await lily(net.home, ["module", "list", "--json"]);
  assert.equal(modules.code, 0, modules.stderr);
  assert.ok(!(JSON.parse(modules.stdout) as { name: string }[]).some((m) => m.name.startsWith("tiny")), "models are not listed as modules");
});

test("lily deposit --lease-escrow funds the leases escrow, which lily balance shows apart from the deals escrow", async () => {
  const balance = async () => JSON.parse((await lily(net.home, ["balance", "--json"])).stdout) as { wallet: string; escrow: string; leases: string };
  const before = await balance();
  const dep = await lily(net.home, ["deposit", "2", "--lease-escrow"]);
  assert.equal(dep.code, 0, dep.stderr);
  assert.match(dep.stdout, /into the leases escrow/);
  const after = await balance();
  assert.equal(BigInt(after.leases) - BigInt(before.leases), 2n * 10n ** 18n);
  assert.equal(after.escrow, before.escrow, "the deals escrow is untouched");
  assert.equal(BigInt(before.wallet) - BigInt(after.wallet), 2n * 10n ** 18n);
  const back = await lily(net.home, ["withdraw", "2", "--lease-escrow"]);
  assert.equal(back.code, 0, back.stderr);
  assert.equal((await balance()).leases, before.leases);
});

// Last: it kills a provider.
test("a provider that dies mid-stream ends that answer with an error, and the next request goes to another provider", async () => {
  const openai = client(await createKey());
  const first = await openai.chat.completions.create(ask).withResponse();
  const serving = first.response.headers.get("x-lily-provider")!;
  const role = Object.values(net.state.roles).find((r) => r.address?.toLowerCase() === serving.toLowerCase());
  assert.ok(role, `the provider ${serving} is one the devnet started`);

  const stream = await openai.chat.completions.create({ ...ask, max_tokens: 470, stream: true });
  let pieces = 0;
  await assert
    .rejects(
      (async () => {
        for await (const chunk of stream) {
          if (chunk.choices[0]?.delta?.content && ++pieces === 1) process.kill(role.pid, "SIGKILL");
        }
      })(),
      (e) => e instanceof OpenAI.APIError,
      "the stream ends with an error event, not a silent truncation",
    )
    .catch((e: unknown) => {
      throw new Error(`${e instanceof Error ? e.message : e}; pieces read: ${pieces}`);
    });
  assert.ok(pieces >= 1 && pieces < 470, `read ${pieces} pieces`);

  const next = await openai.chat.completions.create(ask).withResponse();
  assert.notEqual(next.response.headers.get("x-lily-provider")?.toLowerCase(), serving.toLowerCase());
  assert.equal(next.data.choices[0]!.message.content, first.data.choices[0]!.message.content, "the other provider gives the same answer");
});
