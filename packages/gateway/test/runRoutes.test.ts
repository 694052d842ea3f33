// The gateway's routes behind the studio's Run page, on a real network (anvil, store, solver, a
// provider running the WASM modules): a file input uploaded (POST /v1/files) only with a key or a
// session and only up to its limit (a 413 naming the input), a quote before paying (POST
// /v1/quote), a job whose file input is the uploaded CID, never a path on the gateway's own disk,
// and its result and files (GET /v1/jobs/:id/result, /files/:name) to its owner only, each file
// served with its media type and nothing a module wrote allowed to run in the studio's origin.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { parseEther } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { readSse } from "@lily/api";
import { cidForBytes } from "@lily/protocol";
import type { RunningGateway } from "../src/index.ts";
import { MAX_INPUT_FILE_BYTES } from "../src/http/fileRoutes.ts";
import { mediaType } from "../src/http/resultRoutes.ts";
import { call, createKey, signIn, startGatewayNetwork, type GatewayNetwork } from "./network.ts";

const alice = privateKeyToAccount(`0x${"a7".repeat(32)}`);
const bob = privateKeyToAccount(`0x${"b8".repeat(32)}`);

let net: GatewayNetwork;
let gateway: RunningGateway;
let aliceSession: string;
let bobKey: string;

before(async () => {
  net = await startGatewayNetwork("run", { solver: { sweepIntervalMs: 200 } });
  const provider = await net.party("run provider", { deposit: parseEther("10") });
  await net.startProvider(provider, undefined);
  const payer = await net.party("run gateway", { deposit: parseEther("10") });
  gateway = await net.startGateway(payer.account!);
  const chainId = net.endpoints.chainId;
  aliceSession = await signIn(gateway.url, alice, chainId);
  bobKey = (await createKey(gateway.url, await signIn(gateway.url, bob, chainId))).key;
});
after(() => net?.stop());

type ErrorBody = { error?: { code: string; param: string | null; message: string } };

async function upload(field: string, body: Uint8Array, token?: string): Promise<{ status: number; body: ErrorBody & { cid?: string; size?: number } }> {
  const res = await fetch(`${gateway.url}/v1/files?field=${encodeURIComponent(field)}`, {
    method: "POST",
    headers: { "content-type": "application/octet-stream", ...(token && { authorization: `Bearer ${token}` }) },
    body: body as Uint8Array<ArrayBuffer>,
  });
  return { status: res.status, body: (await res.json()) as never };
}

test("an upload without a key or a session is refused (401) and stores nothing", async () => {
  const bytes = randomBytes(512);
  const res = await upload("file", bytes);
  assert.equal(res.status, 401, JSON.stringify(res.body));
  assert.equal((await upload("file", bytes, "lily_ss_forged")).status, 401);
  assert.equal(await net.store.has(cidForBytes(bytes)), false);
});

test("a file over the limit is refused with a 413 naming the input, and nothing is stored", async () => {
  const big = new Uint8Array(MAX_INPUT_FILE_BYTES + 1);
  const res = await upload("image", big, aliceSession);
  assert.equal(res.status, 413);
  assert.equal(res.body.error?.param, "inputs.image");
  assert.match(res.body.error?.message ?? "", /inputs\.image: the file is larger than the gateway takes \(32 MiB\)/);
  assert.equal(await net.store.has(cidForBytes(big)), false);
});

test("an upload names its input, and an empty file is refused", async () => {
  const bytes = randomBytes(64);
  const unnamed = await upload("", bytes, aliceSession);
  assert.deepEqual([unnamed.status, unnamed.body.error?.param], [400, "field"]);
  const odd = await upload("../etc", bytes, aliceSession);
  assert.deepEqual([odd.status, odd.body.error?.param], [400, "field"]);
  const empty = await upload("file", new Uint8Array(0), aliceSession);
  assert.deepEqual([empty.status, empty.body.error?.param], [400, "inputs.file"]);
  assert.equal(await net.store.has(cidForBytes(bytes)), false);
});

test("a file input given as a path (the gateway's own disk) or as a CID the store lacks is refused before anything is posted", async () => {
  const before = (await call<{ data: unknown[] }>(gateway.url, "GET", "/v1/jobs", aliceSession)).body.data.length;
  for (const file of ["/etc/passwd", "@/etc/hostname", "package.json"]) {
    const res = await call<ErrorBody>(gateway.url, "POST", "/v1/jobs", aliceSession, {
      module: "wordcount@1.0.0",
      inputs: { file },
      max_price: parseEther("2").toString(),
    });
    assert.deepEqual([res.status, res.body.error?.param], [400, "inputs.file"], `${file}: ${JSON.stringify(res.body)}`);
    assert.match(res.body.error!.message, /not a path/);
  }
  const missing = cidForBytes(randomBytes(32));
  const res = await call<ErrorBody>(gateway.url, "POST", "/v1/jobs", aliceSession, {
    module: "wordcount@1.0.0",
    inputs: { file: missing },
    max_price: parseEther("2").toString(),
  });
  assert.deepEqual([res.status, res.body.error?.param], [400, "inputs.file"]);
  assert.match(res.body.error!.message, /not in the store/);
  assert.equal((await call<{ data: unknown[] }>(gateway.url, "GET", "/v1/jobs", aliceSession)).body.data.length, before, "no job was posted");
});

test("a quote gives the price, what the policy adds and the chance of catching a cheat; a bad policy or budget names its field", async () => {
  const trust = await call<Record<string, unknown>>(gateway.url, "POST", "/v1/quote", aliceSession, {
    module: "wordcount@1.0.0",
    max_price: parseEther("2").toString(),
  });
  assert.equal(trust.status, 200, JSON.stringify(trust.body));
  assert.equal(trust.body.policy, "trust");
  assert.equal(trust.body.price, parseEther("1").toString(), "the provider's price");
  assert.equal(trust.body.catch_probability, 0, "trust catches nothing");
  const replicate = await call<Record<string, unknown>>(gateway.url, "POST", "/v1/quote", bobKey, {
    module: "wordcount@1.0.0",
    max_price: parseEther("2").toString(),
    policy: "replicate:2",
    jobs: 5,
  });
  assert.equal(replicate.status, 200, JSON.stringify(replicate.body));
  assert.equal(replicate.body.extra_cost, parseEther("1").toString(), "a second replica costs a second price");
  assert.equal(replicate.body.jobs, 5);
  assert.equal(typeof replicate.body.catch_probability, "number");

  const badPolicy = await call<ErrorBody>(gateway.url, "POST", "/v1/quote", aliceSession, { module: "wordcount@1.0.0", max_price: "1", policy: "hope" });
  assert.deepEqual([badPolicy.status, badPolicy.body.error?.param], [400, "policy"]);
  assert.match(badPolicy.body.error!.message, /^policy: unknown policy "hope"/);
  const cheap = await call<ErrorBody>(gateway.url, "POST", "/v1/quote", aliceSession, { module: "wordcount@1.0.0", max_price: "1" });
  assert.deepEqual([cheap.status, cheap.body.error?.param], [409, "max_price"]);
  assert.equal((await call(gateway.url, "POST", "/v1/quote", undefined, { module: "wordcount@1.0.0", max_price: "1" })).status, 401);
});

interface ResultView {
  stage: string;
  deals: { id: string; state: string; events: { name: string; tx: string }[] }[];
  result: { cid: string; exit_code: number; files: { name: string; cid: string; media_type: string; url: string }[] } | null;
}

test("a job runs on an uploaded file; its result, transactions and files go to its owner only", async () => {
  const text = new TextEncoder().encode("the cow says moo and the cow says moo again\n");
  const up = await upload("file", text, aliceSession);
  assert.equal(up.status, 201, JSON.stringify(up.body));
  assert.equal(up.body.cid, cidForBytes(text), "the CID of exactly the bytes sent");
  assert.ok(await net.store.has(up.body.cid!));

  const job = await call<{ id: string }>(gateway.url, "POST", "/v1/jobs", aliceSession, {
    module: "wordcount@1.0.0",
    inputs: { file: up.body.cid!, top: 2 },
    max_price: parseEther("2").toString(),
  });
  assert.equal(job.status, 201, JSON.stringify(job.body));
  const id = job.body.id;
  const res = await fetch(`${gateway.url}/v1/jobs/${id}/events`, { headers: { authorization: `Bearer ${aliceSession}` } });
  const seen: { event: string; data: Record<string, Record<string, unknown>> }[] = [];
  for await (const ev of readSse(res.body!)) seen.push({ event: ev.event ?? "message", data: JSON.parse(ev.data) });
  const last = seen.at(-1)!;
  assert.equal(last.event, "result", JSON.stringify(last));
  const progress = seen.filter((e) => e.event === "progress").map((e) => e.data.progress!);
  const opened = progress.find((p) => p.stage === "opened");
  const committed = progress.find((p) => p.stage === "committed");
  assert.match(String(opened?.txHash), /^0x[0-9a-f]{64}$/, "the opening carries its transaction");
  assert.match(String(committed?.txHash), /^0x[0-9a-f]{64}$/, "the commitment carries its transaction");
  const result = last.data.result!;
  assert.equal(result.settlement, "settled");
  assert.deepEqual(result.txs, { open: opened!.txHash, commit: committed!.txHash });

  const view = await call<ResultView>(gateway.url, "GET", `/v1/jobs/${id}/result`, aliceSession);
  assert.equal(view.status, 200, JSON.stringify(view.body));
  const [deal] = view.body.deals;
  assert.equal(deal?.state, "settled");
  const names = deal!.events.map((e) => e.name);
  for (const n of ["DealOpened", "ResultCommitted", "DealSettled"]) assert.ok(names.includes(n), `${n} among ${names.join(", ")}`);
  assert.equal(deal!.events.find((e) => e.name === "DealOpened")?.tx, opened!.txHash);
  assert.equal(view.body.result?.cid, result.resultCid);
  const json = view.body.result!.files.find((f) => f.name === "wordcount.json");
  assert.equal(json?.media_type, "application/json");

  const file = await fetch(`${gateway.url}/${json!.url}`, { headers: { authorization: `Bearer ${aliceSession}` } });
  assert.equal(file.status, 200);
  assert.equal(file.headers.get("content-type"), "application/json");
  assert.equal(file.headers.get("x-content-type-options"), "nosniff");
  assert.match(file.headers.get("content-security-policy") ?? "", /sandbox/);
  const counted = (await file.json()) as { words: number; top: [string, number][] };
  assert.equal(counted.words, 10);
  assert.deepEqual(counted.top[0], ["cow", 2], "the most frequent word, first by count then by spelling");

  // REJECT: another user's job, even with its id
  for (const path of [`/v1/jobs/${id}/result`, `/${json!.url}`]) {
    const other = await fetch(`${gateway.url}${path}`, { headers: { authorization: `Bearer ${bobKey}` } });
    assert.equal(other.status, 403, path);
    assert.equal((await fetch(`${gateway.url}${path}`)).status, 401, path);
  }
  const none = await fetch(`${gateway.url}/v1/jobs/${id}/files/..%2Fjobs.sqlite`, { headers: { authorization: `Bearer ${aliceSession}` } });
  assert.equal(none.status, 404, "only the result's own files");
});

test("media types: a module's declaration wins, stdout is text, and what cannot be shown safely is bytes", () => {
  assert.equal(mediaType("faces.png", "image/png"), "image/png");
  assert.equal(mediaType("text.txt", undefined), "text/plain");
  assert.equal(mediaType("stdout", undefined), "text/plain");
  assert.equal(mediaType("x.bin", undefined), "application/octet-stream");
  assert.equal(mediaType("page", "Text/HTML; charset=utf-8"), "text/html");
});
