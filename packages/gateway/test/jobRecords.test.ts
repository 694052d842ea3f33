// The History's and the job page's routes on a real network (anvil, the contracts, a solver, a
// provider running cowsay in the WASM sandbox, the gateway as job creator): a job's signed records
// and transactions go to its owner only, and a challenge is refused, changing nothing, for someone
// else's job (403), an unknown one (404), a job with no result yet, and a job whose policy has no
// challenge (409 naming why). Challenges that reach a mediator are in test/e2e/studioJobs.test.ts.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { parseEther } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { dealState, escrowBalance } from "@lily/chain";
import type { RunningGateway } from "../src/index.ts";
import { call, createKey, eventually, signIn, startGatewayNetwork, type GatewayNetwork } from "./network.ts";

const alice = privateKeyToAccount(`0x${"a3".repeat(32)}`);
const bob = privateKeyToAccount(`0x${"b4".repeat(32)}`);

let net: GatewayNetwork;
let gateway: RunningGateway;
let aliceKey: string;
let bobSession: string;
let payerAddress: `0x${string}`;

before(async () => {
  net = await startGatewayNetwork("job-records", { solver: { sweepIntervalMs: 200 } });
  const provider = await net.party("records provider", { deposit: parseEther("10") });
  await net.startProvider(provider, undefined);
  const payer = await net.party("records gateway", { deposit: parseEther("10") });
  payerAddress = payer.account!.address;
  gateway = await net.startGateway(payer.account!);
  const chainId = net.endpoints.chainId;
  aliceKey = (await createKey(gateway.url, await signIn(gateway.url, alice, chainId))).key;
  bobSession = await signIn(gateway.url, bob, chainId);
});
after(() => net?.stop());

type ErrorBody = { error: { code: string; param: string | null; message: string } };

interface Record {
  status: string;
  cost: { price: string; paid: string | null };
  verification: { policy: string; verdict: string; challengeable: boolean };
  records: { kind: string; id: string; signers: { role: string; address: string; verified: boolean }[]; matches_chain?: boolean | null }[];
  transactions: { name: string; tx: string; gas_used: string }[];
  deals: { id: string; state: string }[];
}

let jobId = "";

test("a challenge before the result is in is refused, naming the result, and sends nothing", async () => {
  const posted = await call<{ id: string }>(gateway.url, "POST", "/v1/jobs", aliceKey, {
    module: "cowsay@1.0.0",
    inputs: { message: "records" },
    max_price: parseEther("2").toString(),
  });
  assert.equal(posted.status, 201, JSON.stringify(posted.body));
  jobId = posted.body.id;
  const balance = await escrowBalance(net.deployer, { account: payerAddress });
  const early = await call<ErrorBody>(gateway.url, "POST", `/v1/jobs/${jobId}/challenge`, aliceKey, {});
  assert.equal(early.status, 409, JSON.stringify(early.body));
  assert.equal(early.body.error.param, "result");
  assert.equal(await escrowBalance(net.deployer, { account: payerAddress }), balance, "nothing was paid or locked by the refusal");
});

test("its owner sees every signed record, each signature verified, and every transaction with its gas", async () => {
  const rec = await eventually(
    "the job settled",
    async () => {
      const r = await call<Record>(gateway.url, "GET", `/v1/jobs/${jobId}/record`, aliceKey);
      assert.equal(r.status, 200, JSON.stringify(r.body));
      return r.body.status === "settled" ? r.body : undefined;
    },
    60_000,
  );
  assert.deepEqual(
    rec.records.map((r) => r.kind),
    ["job-offer", "resource-offer", "deal", "result"],
  );
  assert.equal(rec.records[0]!.id, jobId);
  const signers = rec.records.flatMap((r) => r.signers);
  assert.ok(signers.length >= 5, "job offer, resource offer, deal by both parties, result");
  assert.ok(
    signers.every((s) => s.verified),
    JSON.stringify(signers),
  );
  assert.equal(rec.records[0]!.signers[0]!.address.toLowerCase(), payerAddress.toLowerCase(), "the gateway signed the job offer as its job creator");
  assert.equal(rec.records.find((r) => r.kind === "result")!.matches_chain, true, "the signed result is the one committed on chain");
  assert.equal(rec.deals[0]!.state, await dealState(net.deployer, { dealId: rec.deals[0]!.id as `0x${string}` }));
  const names = rec.transactions.map((t) => t.name);
  for (const n of ["DealOpened", "ResultCommitted", "DealSettled"]) assert.ok(names.includes(n), `${n} among ${names.join(", ")}`);
  assert.ok(
    rec.transactions.every((t) => /^0x[0-9a-f]{64}$/.test(t.tx) && BigInt(t.gas_used) > 21_000n),
    "each with its hash and gas",
  );
  assert.equal(rec.verification.policy, "trust");
  assert.equal(rec.verification.verdict, "unchecked");
  assert.equal(rec.cost.paid, rec.cost.price, "a settled trust job paid its price");

  const history = await call<{ data: { id: string; status: string; cost: { price: string } }[] }>(gateway.url, "GET", "/v1/history", aliceKey);
  assert.equal(history.status, 200);
  const row = history.body.data.find((j) => j.id === jobId);
  assert.equal(row?.status, "settled");
  assert.equal(row?.cost.price, rec.cost.price);
});

test("a result under trust cannot be challenged: 409 naming the policy", async () => {
  const r = await call<ErrorBody>(gateway.url, "POST", `/v1/jobs/${jobId}/challenge`, aliceKey, { reason: "no" });
  assert.equal(r.status, 409, JSON.stringify(r.body));
  assert.equal(r.body.error.param, "policy");
});

test("another user's job is 403 for its records and its challenge, and is not in their history", async () => {
  const records = await call<ErrorBody>(gateway.url, "GET", `/v1/jobs/${jobId}/record`, bobSession);
  assert.equal(records.status, 403);
  assert.equal(records.body.error.code, "forbidden");
  const challenge = await call<ErrorBody>(gateway.url, "POST", `/v1/jobs/${jobId}/challenge`, bobSession, {});
  assert.equal(challenge.status, 403);
  const history = await call<{ data: unknown[] }>(gateway.url, "GET", "/v1/history", bobSession);
  assert.deepEqual(history.body.data, []);
});

test("an unknown job is 404, no credentials 401, and a bad body 400 naming the field", async () => {
  const unknown = `0x${"12".repeat(32)}`;
  for (const [method, path] of [
    ["GET", `/v1/jobs/${unknown}/record`],
    ["POST", `/v1/jobs/${unknown}/challenge`],
    ["POST", "/v1/jobs/not-a-job/challenge"],
  ] as const) {
    const r = await call<ErrorBody>(gateway.url, method, path, aliceKey, method === "POST" ? {} : undefined);
    assert.equal(r.status, 404, `${method} ${path}: ${JSON.stringify(r.body)}`);
  }
  for (const [method, path] of [
    ["GET", `/v1/jobs/${jobId}/record`],
    ["POST", `/v1/jobs/${jobId}/challenge`],
    ["GET", "/v1/history"],
  ] as const) {
    const r = await call<ErrorBody>(gateway.url, method, path, undefined, method === "POST" ? {} : undefined);
    assert.equal(r.status, 401, `${method} ${path} without credentials`);
  }
  const long = await call<ErrorBody>(gateway.url, "POST", `/v1/jobs/${jobId}/challenge`, aliceKey, { reason: "é".repeat(17) });
  assert.equal(long.status, 400, JSON.stringify(long.body));
  assert.equal(long.body.error.param, "reason");
  const extra = await call<ErrorBody>(gateway.url, "POST", `/v1/jobs/${jobId}/challenge`, aliceKey, { reason: "x", amount: 1 });
  assert.equal(extra.status, 400);
});
