// A challenge the chain node lost (anvil restarted from its state file; a reorg) must be sent
// again while its window is open, or the job creator pays for the result it disputed. The loss is
// made with evm_snapshot before the challenge and evm_revert after it. Real anvil and contracts (the
// chain fixture, a block only per transaction, so chain time moves only when the test moves it).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { parseEther, type Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { createLilyClient, dealState, deposit, fundAccount } from "@lily/chain";
import { startFixture, testKey, type Fixture } from "../../chain/test/fixture.ts";
import { challengeJob, createContext, followChallenge, memoryJournal, type ChallengeProgress, type JobCreatorContext } from "../src/index.ts";
import { committedDeal, fixtureEndpoints } from "./committedDeal.ts";
import { eventually } from "./network.ts";

const WINDOW = 600n;
const account = privateKeyToAccount(testKey("sdk challenger"));
let f: Fixture;
let ctx: JobCreatorContext;

before(async () => {
  f = await startFixture();
  await fundAccount(f.deployer, { to: account.address, tokens: parseEther("100"), eth: parseEther("1") });
  await deposit(createLilyClient({ rpcUrl: f.anvil.rpcUrl, account, addresses: f.addresses }), { amount: parseEther("100") });
  ctx = createContext({ ...fixtureEndpoints(f), account }, { journal: memoryJournal() });
});
after(() => f?.stop());

const rpc = (method: string, params: unknown[] = []) => f.deployer.publicClient.request({ method, params } as never) as Promise<unknown>;

async function challengedJob(): Promise<{ jobOfferId: Hex; dealId: Hex; snapshot: unknown }> {
  const entry = await committedDeal(f, account, WINDOW);
  ctx.journal.put(entry);
  const snapshot = await rpc("evm_snapshot");
  await challengeJob(ctx, entry.jobOfferId, "not my cow" as Hex);
  assert.equal(await dealState(f.deployer, { dealId: entry.dealId! }), "challenged");
  return { jobOfferId: entry.jobOfferId, dealId: entry.dealId!, snapshot };
}

test("a challenge the chain node lost is sent again while the window is open, and followed until the window closes", async (t) => {
  const { jobOfferId, dealId, snapshot } = await challengedJob();
  const seen: ChallengeProgress[] = [];
  const stop = new AbortController();
  t.after(() => stop.abort());
  const following = followChallenge(ctx, {
    jobOfferId,
    reason: "not my cow" as Hex,
    signal: stop.signal,
    intervalMs: 100,
    onProgress: (p) => seen.push(p),
  });
  following.catch(() => {});
  await eventually(async () => (seen.some((p) => p.kind === "looked" && p.state === "challenged") ? true : undefined), 10_000);
  assert.equal(seen.filter((p) => p.kind === "sentAgain").length, 0, "a challenge still on chain is not sent again");

  // What anvil does across a stop that loses its last blocks: the confirmed challenge is gone.
  assert.equal(await rpc("evm_revert", [snapshot]), true);
  assert.equal(await dealState(f.deployer, { dealId }), "committed");
  await eventually(async () => ((await dealState(f.deployer, { dealId })) === "challenged" ? true : undefined), 10_000);

  await f.increaseTime(Number(WINDOW) + 1);
  const outcome = await following;
  assert.equal(outcome.state, "challenged");
  assert.equal(outcome.lost, false);
  assert.equal(outcome.sentAgain.length, 1);
  assert.deepEqual(
    seen.filter((p) => p.kind === "sentAgain"),
    [{ kind: "sentAgain", txHash: outcome.sentAgain[0] }],
  );
});

test("following stops between two looks when its signal aborts, with the signal's reason", async () => {
  const { jobOfferId } = await challengedJob();
  const stop = new AbortController();
  const following = followChallenge(ctx, { jobOfferId, signal: stop.signal, intervalMs: 60_000 });
  const reason = new Error("the job creator stopped following");
  setTimeout(() => stop.abort(reason), 200);
  const started = Date.now();
  await assert.rejects(following, (e) => e === reason);
  assert.ok(Date.now() - started < 5_000, "the pause between looks ends at the abort");
});
