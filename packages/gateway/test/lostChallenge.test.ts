// A challenge the gateway sent for its user must not vanish with blocks the chain node lost
// (anvil restarted from its state file; a reorg on a real chain): the deal would be committed
// again, nobody would challenge, and when the window closed the user would have paid for the
// result they disputed. The loss is made with evm_snapshot before the challenge and evm_revert
// after the gateway answered 202. Real anvil, contracts, solver, a provider running cowsay; the
// mediator is only an address both sides accept (a /v1/health that names it): nobody rules here.
// The second case stops the gateway before the loss: the challenge it was following is followed
// again when it starts.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import { join } from "node:path";
import type { AddressInfo } from "node:net";
import { parseEther, type Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { dealState } from "@lily/chain";
import type { RunningGateway } from "../src/index.ts";
import { call, createKey, eventually, signIn, startGatewayNetwork, type GatewayNetwork } from "./network.ts";

const alice = privateKeyToAccount(`0x${"a5".repeat(32)}`);
const mediator = privateKeyToAccount(`0x${"c7".repeat(32)}`).address;

let net: GatewayNetwork;
let gateway: RunningGateway;
let health: Server;
let aliceKey: string;
let payer: Awaited<ReturnType<GatewayNetwork["party"]>>;
let gatewayOpts: Parameters<GatewayNetwork["startGateway"]>[1];

before(async () => {
  net = await startGatewayNetwork("lost-challenge", { solver: { sweepIntervalMs: 200 } });
  health = createServer((_req, res) => res.end(JSON.stringify({ role: "mediator", address: mediator })));
  await new Promise<void>((r) => health.listen(0, "127.0.0.1", r));
  const provider = await net.party("challenged provider", { deposit: parseEther("10") });
  await net.startProvider(provider, undefined, { opts: { mediators: [mediator] } });
  payer = await net.party("challenging gateway", { deposit: parseEther("10") });
  gatewayOpts = { home: join(net.dir, "challenging-gateway"), opts: { mediatorUrl: `http://127.0.0.1:${(health.address() as AddressInfo).port}` } };
  gateway = await net.startGateway(payer.account!, gatewayOpts);
  aliceKey = (await createKey(gateway.url, await signIn(gateway.url, alice, net.endpoints.chainId))).key;
});
after(async () => {
  await net?.stop();
  health?.close();
});

const rpc = (method: string, params: unknown[] = []) => net.deployer.publicClient.request({ method, params } as never) as Promise<unknown>;

/** Alice's optimistic job, until its result is committed; its job and deal ids. */
async function committedJob(message: string): Promise<{ jobId: string; dealId: Hex }> {
  const posted = await call<{ id: string }>(gateway.url, "POST", "/v1/jobs", aliceKey, {
    module: "cowsay@1.0.0",
    inputs: { message },
    max_price: parseEther("2").toString(),
    policy: "optimistic:10m",
  });
  assert.equal(posted.status, 201, JSON.stringify(posted.body));
  const jobId = posted.body.id;
  const committed = await eventually(
    "the result committed",
    async () => {
      const r = await call<{ status: string; deals: { id: string; state: string }[] }>(gateway.url, "GET", `/v1/jobs/${jobId}/record`, aliceKey);
      return r.body.deals?.[0]?.state === "committed" ? r.body : undefined;
    },
    60_000,
  );
  return { jobId, dealId: committed.deals[0]!.id as Hex };
}

/** Challenge through the gateway after a snapshot; returns the snapshot to revert to. */
async function challengeAfterSnapshot(jobId: string, dealId: Hex): Promise<unknown> {
  const snapshot = await rpc("evm_snapshot");
  const sent = await call<{ tx: string }>(gateway.url, "POST", `/v1/jobs/${jobId}/challenge`, aliceKey, { reason: "not my cow" });
  assert.equal(sent.status, 202, JSON.stringify(sent.body));
  assert.equal(await dealState(net.deployer, { dealId }), "challenged");
  return snapshot;
}

/** What anvil does across a stop that loses its last blocks: the confirmed challenge is gone. */
async function loseChallenge(snapshot: unknown, dealId: Hex): Promise<void> {
  assert.equal(await rpc("evm_revert", [snapshot]), true);
  assert.equal(await dealState(net.deployer, { dealId }), "committed");
}

const challengedAgain = (dealId: Hex) =>
  eventually("the challenge sent again", async () => ((await dealState(net.deployer, { dealId })) === "challenged" ? true : undefined), 20_000);

test("a challenge the chain node lost after the gateway sent it is sent again while the window is open", async () => {
  const { jobId, dealId } = await committedJob("challenge me twice");
  const snapshot = await challengeAfterSnapshot(jobId, dealId);
  await loseChallenge(snapshot, dealId);
  await challengedAgain(dealId);
});

test("a challenge followed when the gateway stopped is followed again when it starts", async () => {
  const { jobId, dealId } = await committedJob("challenge me across a restart");
  const snapshot = await challengeAfterSnapshot(jobId, dealId);
  await gateway.close();
  await loseChallenge(snapshot, dealId);
  gateway = await net.startGateway(payer.account!, gatewayOpts);
  await challengedAgain(dealId);
});
