// A job creator following a signed deal waits out a chain or solver that is restarting, but not
// forever: once the chain has not answered for peerTimeoutMs the wait ends with UNREACHABLE, and
// the job stays in the journal (signed), to be followed again when the chain is back.
import { test } from "node:test";
import assert from "node:assert/strict";
import { hashRecord } from "@lily/protocol";
import { createJobCreator, memoryJournal } from "../src/index.ts";
import { domain, jobCreator, jobOffer, proposed, providers, resourceOffer } from "./offers.ts";

// Nothing listens on port 9 (discard): every request is refused at once.
const nowhere = "http://127.0.0.1:9";

test("a chain that stops answering ends the wait with UNREACHABLE after peerTimeoutMs (not at once), and the signed deal stays in the journal", async () => {
  const job = jobOffer();
  const deal = proposed(job, await resourceOffer(providers[0]!));
  const dealId = hashRecord(domain, "Deal", deal);
  const journal = memoryJournal();
  journal.put({ jobOfferId: job.id, module: "cowsay@1.0.0", offer: job.offer, signature: `0x${"11".repeat(65)}`, dealId, deal, stage: "signed", createdAt: 0 });
  const jc = createJobCreator(
    {
      account: jobCreator,
      rpcUrl: nowhere,
      chainId: domain.chainId,
      token: domain.verifyingContract,
      deals: domain.verifyingContract,
      registry: domain.verifyingContract,
      leases: domain.verifyingContract,
      deployBlock: 0,
      solverUrl: nowhere,
      storeUrl: nowhere,
    },
    { journal, submit: { pollMs: 50, peerTimeoutMs: 2_000 } },
  );
  const started = Date.now();
  const e = await jc.waitForResult({ jobOfferId: job.id }).then(
    () => assert.fail("expected UNREACHABLE"),
    (err: unknown) => err as { code?: string },
  );
  assert.equal(e.code, "UNREACHABLE");
  assert.ok(Date.now() - started >= 2_000, "it waited out peerTimeoutMs first: a restart shorter than that costs nothing");
  assert.deepEqual([journal.get(job.id)?.stage, journal.get(job.id)?.dealId], ["signed", dealId]);
});
