// A challenge the gateway sent for its user must not vanish with blocks the chain node lost
// (anvil restarted from its state file; a reorg on a real chain): the deal would be committed
// again, nobody would challenge, and when the window closed the user would have paid for the
// result they disputed. The loss is made with evm_snapshot before the challenge and evm_revert
// after the gateway answered 202. Real anvil, contracts, solver, a provider running cowsay; the
// mediator is only an address both sides accept (a /v1/health that names it): nobody rules here.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
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

before(async () => {
  net = await startGatewayNetwork("lost-challenge", { solver: { sweepIntervalMs: 200 } });
  health = createServer((_req, res) => res.end(JSON.stringify({ role: "mediator", address: mediator })));
  await new Promise<void>((r) => health.listen(0, "127.0.0.1", r));
  const provider = await net.party("challenged provider", { deposit: parseEther("10") });
  await net.startProvider(provider, undefined, { opts: { mediators: [mediator] } });
  const payer = await net.party("challenging gateway", { deposit: parseEther("10") });
  gateway = await net.startGateway(payer.account!, { opts: { mediatorUrl: `http://127.0.0.1:${(health.address() as AddressInfo).port}` } });
  aliceKey = (await createKey(gateway.url, await signIn(gateway.url, alice, net.endpoints.chainId))).key;
});
after(async () => {
  await net?.stop();
  health?.close();
});

const rpc = (method: string, params: unknown[] = []) => net.deployer.publicClient.request({ method, params } as never) as Promise<unknown>;

test("a challenge the chain node lost after the gateway sent it is sent again while the window is open", async () => {
  const posted = await call<{ id: string }>(gateway.url, "POST", "/v1/jobs", aliceKey, {
    module: "cowsay@1.0.0",
    inputs: { message: "challenge me twice" },
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
  const dealId = committed.deals[0]!.id as Hex;

  const snapshot = await rpc("evm_snapshot");
  const sent = await call<{ tx: string }>(gateway.url, "POST", `/v1/jobs/${jobId}/challenge`, aliceKey, { reason: "not my cow" });
  assert.equal(sent.status, 202, JSON.stringify(sent.body));
  assert.equal(await dealState(net.deployer, { dealId }), "challenged");
  // What anvil does across a stop that loses its last blocks: the confirmed challenge is gone.
  assert.equal(await rpc("evm_revert", [snapshot]), true);
  assert.equal(await dealState(net.deployer, { dealId }), "committed");

  await eventually("the challenge sent again", async () => ((await dealState(net.deployer, { dealId })) === "challenged" ? true : undefined), 20_000);
});
