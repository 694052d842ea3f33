// A provider's nonces for its routed trust deals, without a chain: taken in sequence from its own
// database, one per deal and never twice (across a restart, whatever the clock says then), a fresh
// database starting at the unix second shifted 20 bits; and the signature sent to the solver
// carries the deal's nonce, verifies over the TrustDeal under it, and is the same when sent again.
import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import type { Address, Hex } from "viem";
import { verifyDealSignature, type LilyClient } from "@lily/chain";
import { Policy, legacyTrustNonce } from "@lily/protocol";
import { ProviderDb } from "../src/db.ts";
import { sendSignature } from "../src/openSteps.ts";
import type { StepContext } from "../src/stepContext.ts";
import { NOW, domain, provider } from "./proposals.ts";
import { signedDeal } from "./localDeals.ts";
import { testLogger } from "../../../test/support/localNetwork.ts";
import { tempDir } from "../../../test/support/tempDir.ts";

/** A network naming LilyTrustDeals (no node behind it: signing and verifying need only the addresses). */
const ADDRESSES = { chainId: domain.chainId, deals: domain.verifyingContract, trustDeals: "0x00000000000000000000000000000000000000e7" as Address };
const START = BigInt(NOW) << 20n;
const dbPath = () => join(tempDir("lily-provider-nonces-"), "provider.db");

/** What sendSignature touches, with a solver that records what it is sent. */
function stepContext(db: ProviderDb, nowSeconds: number, addresses: Partial<typeof ADDRESSES> = ADDRESSES) {
  const posted: { signer: Address; signature: Hex; trustNonce?: bigint }[] = [];
  const ctx = {
    account: provider,
    chain: { addresses } as unknown as LilyClient,
    db,
    clock: () => nowSeconds * 1000,
    logger: testLogger("trust-nonces"),
    solver: { signDeal: async (req: { body: (typeof posted)[number] }) => void posted.push(req.body) },
  } as unknown as StepContext;
  return { ctx, posted };
}

test("a fresh database starts at the second shifted 20 bits and numbers deals in sequence, each kept with its deal", () => {
  const db = new ProviderDb(dbPath());
  const numbered = [1, 2, 3].map((n, i) => db.withNextTrustNonce(signedDeal(n), NOW + i * 7));
  // Only a database without a sequence reads the clock.
  assert.deepEqual(
    numbered.map((d) => d.trustNonce),
    [START, START + 1n, START + 2n],
  );
  for (const d of numbered) assert.deepEqual(db.get(d.id), d);
  db.close();
});

test("after a restart the next deal gets the next nonce, never a used one, whether the clock went back or on", () => {
  const path = dbPath();
  const first = new ProviderDb(path);
  const used = [1, 2, 3].map((n) => first.withNextTrustNonce(signedDeal(n), NOW).trustNonce!);
  first.close();

  const again = new ProviderDb(path);
  const behind = again.withNextTrustNonce(signedDeal(4), NOW - 3600).trustNonce!;
  const ahead = again.withNextTrustNonce(signedDeal(5), NOW + 3600).trustNonce!;
  assert.deepEqual([behind, ahead], [START + 3n, START + 4n]);
  assert.equal(new Set([...used, behind, ahead]).size, 5, "no nonce given twice");
  assert.deepEqual(
    [1, 2, 3].map((n) => again.get(signedDeal(n).id)?.trustNonce),
    used,
    "the deals numbered before the restart keep theirs",
  );
  again.close();
});

test("the signature sent to the solver carries the deal's nonce and verifies over its TrustDeal; sent again after a restart, it is the same and takes no new nonce", async () => {
  const path = dbPath();
  const db = new ProviderDb(path);
  const { ctx, posted } = stepContext(db, NOW);
  const local = signedDeal(1);
  db.put(local);
  await sendSignature(ctx, local);
  assert.equal(posted.length, 1);
  const [sent] = posted;
  assert.equal(sent!.trustNonce, START);
  assert.equal(sent!.signer, provider.address);
  const routed = { dealId: local.id, deal: local.deal, trustNonce: START };
  await verifyDealSignature(ADDRESSES, routed, sent!.signature, { signer: provider.address, field: "providerSignature" });
  // Over that nonce, not merely over the terms: under any other it is not the provider's signature.
  await assert.rejects(
    verifyDealSignature(ADDRESSES, { ...routed, trustNonce: START + 1n }, sent!.signature, { signer: provider.address, field: "providerSignature" }),
    { code: "BAD_SIGNATURE" },
  );
  assert.equal(db.get(local.id)?.trustNonce, START, "kept before it was sent");
  db.close();

  // The "sign" step of a restarted provider (the solver never got the signature): the deal as its database holds it.
  const reopened = new ProviderDb(path);
  const later = stepContext(reopened, NOW + 3600);
  await sendSignature(later.ctx, reopened.get(local.id)!);
  assert.deepEqual(later.posted, posted, "the same nonce and the same signature");
  assert.equal(reopened.withNextTrustNonce(signedDeal(2), NOW + 3600).trustNonce, START + 1n, "no nonce was taken by signing again");
  reopened.close();
});

test("a deal that does not open on LilyTrustDeals is signed without a nonce and takes none of the sequence", async () => {
  const db = new ProviderDb(dbPath());
  const { trustDeals: _, ...withoutTrust } = ADDRESSES;
  const cases = [
    { why: "not a trust deal", local: signedDeal(1, Policy.optimistic), addresses: ADDRESSES },
    { why: "a network without LilyTrustDeals", local: signedDeal(2), addresses: withoutTrust },
  ];
  for (const c of cases) {
    const { ctx, posted } = stepContext(db, NOW, c.addresses);
    db.put(c.local);
    await sendSignature(ctx, c.local);
    assert.equal(posted.length, 1, c.why);
    assert.equal("trustNonce" in posted[0]!, false, `${c.why}: no trustNonce posted`);
    // None taken: a trust deal reads back with the nonce a deal stored before providers picked them
    // was signed under (legacyTrustNonce), which a network without LilyTrustDeals never uses.
    assert.equal(db.get(c.local.id)?.trustNonce, c.local.deal.policy === Policy.trust ? legacyTrustNonce(c.local.id) : undefined, c.why);
  }
  assert.equal(db.withNextTrustNonce(signedDeal(3), NOW).trustNonce, START, "the sequence is untouched");
  db.close();
});

test("a trust deal stored before providers picked nonces reads back with the nonce it was signed under (its id's top 64 bits); other deals with none", () => {
  const path = dbPath();
  const db = new ProviderDb(path);
  const trust = signedDeal(10);
  const optimistic = signedDeal(11, Policy.optimistic);
  db.put({ ...trust, status: "opened" });
  db.put({ ...optimistic, status: "opened" });
  db.close();
  // Rows as an older provider wrote them: no trustNonce in their extra fields.
  const raw = new DatabaseSync(path);
  assert.equal((raw.prepare("SELECT count(*) AS n FROM deals WHERE json_extract(extra, '$.trustNonce') IS NOT NULL").get() as { n: number }).n, 0);
  raw.close();
  const again = new ProviderDb(path);
  assert.equal(again.get(trust.id)!.trustNonce, legacyTrustNonce(trust.id));
  assert.equal(again.get(trust.id)!.trustNonce, BigInt(trust.id.slice(0, 18)));
  assert.equal(again.get(optimistic.id)!.trustNonce, undefined);
  // The sign step of such a deal re-sends what was signed: no nonce is taken from the sequence.
  const { ctx, posted } = stepContext(again, NOW);
  return sendSignature(ctx, again.get(trust.id)!).then(() => {
    assert.equal(posted[0]!.trustNonce, legacyTrustNonce(trust.id));
    assert.equal(again.takeTrustNonce(NOW), START, "the sequence was not touched");
    again.close();
  });
});
