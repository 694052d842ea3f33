// Jobs through the gateway on a real network: a provider that runs deals (the WASM executor), the
// built modules in the registry, and a gateway that is the job creator and pays from its escrow.
// A user's API key posts cowsay@1.0.0; its events stream progress, then the result; each user
// lists only their own jobs, and another user's job is 403.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { parseEther } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { readSse } from "@lily/api";
import type { RunningGateway } from "../src/index.ts";
import { call, createKey, signIn, startGatewayNetwork, type GatewayNetwork } from "./network.ts";

const alice = privateKeyToAccount(`0x${"a1".repeat(32)}`);
const bob = privateKeyToAccount(`0x${"b2".repeat(32)}`);

let net: GatewayNetwork;
let gateway: RunningGateway;
let aliceKey: string;
let bobKey: string;

before(async () => {
  net = await startGatewayNetwork("jobs", { solver: { sweepIntervalMs: 200 } });
  const provider = await net.party("jobs provider", { deposit: parseEther("10") });
  await net.startProvider(provider, undefined);
  const payer = await net.party("jobs gateway", { deposit: parseEther("10") });
  gateway = await net.startGateway(payer.account!);
  const chainId = net.endpoints.chainId;
  aliceKey = (await createKey(gateway.url, await signIn(gateway.url, alice, chainId))).key;
  bobKey = (await createKey(gateway.url, await signIn(gateway.url, bob, chainId))).key;
});
after(() => net?.stop());

interface JobView {
  id: string;
  module: string;
  stage: string;
}

async function postJob(key: string, message: string): Promise<JobView> {
  const res = await call<JobView>(gateway.url, "POST", "/v1/jobs", key, { module: "cowsay@1.0.0", inputs: { message }, max_price: parseEther("2").toString() });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body;
}

/** Follow a job's events to its end. */
async function events(key: string, id: string): Promise<{ event: string; data: Record<string, unknown> }[]> {
  const res = await fetch(`${gateway.url}/v1/jobs/${id}/events`, { headers: { authorization: `Bearer ${key}` } });
  assert.equal(res.status, 200);
  assert.match(res.headers.get("content-type") ?? "", /text\/event-stream/);
  const got: { event: string; data: Record<string, unknown> }[] = [];
  for await (const ev of readSse(res.body!)) got.push({ event: ev.event ?? "message", data: JSON.parse(ev.data) });
  return got;
}

test("a job posted with an API key streams its progress, then the module's result", async () => {
  const [aliceJob, bobJob] = await Promise.all([postJob(aliceKey, "moo from the gateway"), postJob(bobKey, "bob's cow")]);
  assert.equal(aliceJob.module, "cowsay@1.0.0");
  const [seen] = await Promise.all([events(aliceKey, aliceJob.id), events(bobKey, bobJob.id)]);

  const last = seen.at(-1)!;
  assert.equal(last.event, "result", JSON.stringify(last));
  const progress = seen.slice(0, -1);
  assert.ok(
    progress.every((e) => e.event === "progress"),
    "everything before the result is progress",
  );
  const stages = progress.map((e) => (e.data.progress as { stage: string }).stage);
  for (const stage of ["offered", "matched", "committed"]) assert.ok(stages.includes(stage), `a ${stage} event among ${stages.join(", ")}`);
  const result = last.data.result as { exitCode: number; stdout: string };
  assert.equal(result.exitCode, 0);
  assert.match(result.stdout, /moo from the gateway/);

  const view = await call<JobView>(gateway.url, "GET", `/v1/jobs/${aliceJob.id}`, aliceKey);
  assert.equal(view.status, 200);
  assert.equal(view.body.stage, "completed");
});

test("each user lists only their own jobs, and another user's job is 403", async () => {
  const list = async (key: string) => (await call<{ data: JobView[] }>(gateway.url, "GET", "/v1/jobs", key)).body.data;
  const aliceJobs = await list(aliceKey);
  const bobJobs = await list(bobKey);
  assert.equal(aliceJobs.length, 1);
  assert.equal(bobJobs.length, 1);
  assert.notEqual(aliceJobs[0]!.id, bobJobs[0]!.id);
  for (const path of [`/v1/jobs/${aliceJobs[0]!.id}`, `/v1/jobs/${aliceJobs[0]!.id}/events`]) {
    const res = await call<{ error: { type: string } }>(gateway.url, "GET", path, bobKey);
    assert.equal(res.status, 403, `${path} as bob: ${JSON.stringify(res.body)}`);
  }
});
