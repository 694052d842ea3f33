// The job creator's record of the (provider, nonce) pairs it signed routed trust deals under: a
// second deal under a pair it already signed is found (and so refused by signProposals), the same
// deal signed again is not, and the record is rebuilt from the journal after a restart.
import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import type { Hex } from "viem";
import { memoryJournal, sqliteJournal, type JobEntry } from "../src/index.ts";
import { noteNonceSigned, otherDealUnderNonce } from "../src/trustNonces.ts";
import { tempDir } from "../../../test/support/tempDir.ts";
import { jobOffer, proposed, providers, resourceOffer } from "./offers.ts";

const id = (b: string) => `0x${b.repeat(32)}` as Hex;
const job = jobOffer();
const deal = proposed(job, await resourceOffer(providers[0]!));
const provider = deal.provider;

function signedEntry(dealId: Hex, trustNonce: bigint): JobEntry {
  return { jobOfferId: id("0a"), module: "m", offer: job.offer, dealId, deal, trustNonce, stage: "signed", createdAt: 1 };
}

test("a second deal under a (provider, nonce) this job creator signed is found; the same deal, another nonce or another provider is not", () => {
  const journal = memoryJournal();
  journal.put(signedEntry(id("01"), 7n));
  assert.equal(otherDealUnderNonce(journal, { dealId: id("02"), provider, nonce: 7n }), id("01"));
  assert.equal(
    otherDealUnderNonce(journal, { dealId: id("02"), provider: provider.toLowerCase() as Hex, nonce: 7n }),
    id("01"),
    "address casing does not matter",
  );
  assert.equal(otherDealUnderNonce(journal, { dealId: id("01"), provider, nonce: 7n }), undefined, "the same deal signed again");
  assert.equal(otherDealUnderNonce(journal, { dealId: id("02"), provider, nonce: 8n }), undefined);
  assert.equal(otherDealUnderNonce(journal, { dealId: id("02"), provider: `0x${"ab".repeat(20)}`, nonce: 7n }), undefined);
  // Signed later in this process: remembered though the journal entry moved on to another deal.
  noteNonceSigned(journal, { dealId: id("03"), provider, nonce: 9n });
  assert.equal(otherDealUnderNonce(journal, { dealId: id("04"), provider, nonce: 9n }), id("03"));
});

test("after a restart the pairs come back from the SQLite journal, the nonce as a bigint", () => {
  const path = join(tempDir("lily-trust-nonces-"), "journal.db");
  const first = sqliteJournal(path);
  first.put(signedEntry(id("01"), 2n ** 63n + 5n));
  first.close();
  const reopened = sqliteJournal(path);
  assert.equal(reopened.get(id("0a"))!.trustNonce, 2n ** 63n + 5n);
  assert.equal(otherDealUnderNonce(reopened, { dealId: id("02"), provider, nonce: 2n ** 63n + 5n }), id("01"));
  reopened.close();
});
