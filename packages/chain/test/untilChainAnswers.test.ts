// untilChainAnswers: a role's start-up read waits out a chain node that is away (restarting) and
// gives up on anything else at once, or on a silence longer than it was told to wait.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createLilyClient, untilChainAnswers } from "@lily/chain";
import { LilyError, isLilyError } from "@lily/protocol";
import { zeroAddress } from "viem";

const unreachable = () => new LilyError({ code: "UNREACHABLE", message: "the chain RPC did not answer" });

test("a read that fails UNREACHABLE twice and then answers is waited for", async () => {
  let calls = 0;
  const waits: string[] = [];
  const v = await untilChainAnswers(
    async () => {
      if (++calls < 3) throw unreachable();
      return 42;
    },
    { onWait: (e) => waits.push(e.code) },
  );
  assert.equal(v, 42);
  assert.deepEqual(waits, ["UNREACHABLE", "UNREACHABLE"]);
});

test("any other error is thrown at once, not retried", async () => {
  let calls = 0;
  await assert.rejects(
    untilChainAnswers(async () => {
      calls++;
      throw new LilyError({ code: "CHAIN_REVERT", message: "reverted" });
    }),
    (e) => isLilyError(e, "CHAIN_REVERT"),
  );
  assert.equal(calls, 1);
});

test("a node that stays away longer than waitMs ends in UNREACHABLE (a real refused connection, typed)", async () => {
  // Port 9 (discard) on loopback: nothing listens, the connection is refused.
  const chain = createLilyClient({
    rpcUrl: "http://127.0.0.1:9",
    addresses: { chainId: 31337, token: zeroAddress, deals: zeroAddress, deployBlock: 0 } as never,
  });
  const t0 = Date.now();
  await assert.rejects(
    untilChainAnswers(() => chain.publicClient.getChainId(), { waitMs: 1000 }),
    (e) => isLilyError(e, "UNREACHABLE"),
  );
  assert.ok(Date.now() - t0 < 10_000);
});
