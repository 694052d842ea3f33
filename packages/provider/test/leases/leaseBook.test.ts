// The lease book's choice of leases to follow again after the chain node lost blocks: closed leases
// it no longer follows (collateral back or slashed) whose claim window is still open, and no other.
import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import type { Hex } from "viem";
import type { Lease } from "@lily/protocol";
import { ProviderDb } from "../../src/db.ts";
import { LeaseBook, type LocalLease } from "../../src/leases/leaseBook.ts";
import { tempDir } from "../../../../test/support/tempDir.ts";

const NOW = 1_900_000_000;
const CLAIM_WINDOW = 3600;
const SIG = `0x${"1".repeat(130)}` as Hex;

function lease(expiresAt: number, nonce: bigint): Lease {
  return {
    payer: "0x00000000000000000000000000000000000000B2",
    provider: "0x00000000000000000000000000000000000000A1",
    model: "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku",
    budget: 1_000_000n,
    collateral: 5000n,
    inputPricePer1k: 1000n,
    outputPricePer1k: 2000n,
    openBy: BigInt(expiresAt - 3600),
    expiresAt: BigInt(expiresAt),
    mediator: "0x0000000000000000000000000000000000000000",
    mediationFee: 0n,
    auditBps: 0,
    moduleCreator: "0x0000000000000000000000000000000000000000",
    royaltyBps: 0,
    nonce,
  };
}

test("after lost blocks, closed leases no longer followed are followed again while their claim window is open", (t) => {
  const db = new ProviderDb(join(tempDir("lily-lease-book-"), "provider.db"));
  t.after(() => db.close());
  const book = new LeaseBook(db.database);
  const add = (n: number, expiresAt: number, state: LocalLease["state"], collateral: LocalLease["collateral"]): Hex => {
    const id = `0x${n.toString(16).padStart(64, "0")}` as Hex;
    book.propose({ id, lease: lease(expiresAt, BigInt(n)), payerSignature: SIG, providerSignature: SIG });
    book.setState(id, { state, collateral });
    return id;
  };
  const released = add(1, NOW - 60, "closed", "released");
  const slashed = add(2, NOW - CLAIM_WINDOW, "closed", "slashed"); // the window's last second
  add(3, NOW - CLAIM_WINDOW - 1, "closed", "released"); // its window ended: a lost close cannot be sent again
  add(4, NOW - 60, "expired", "released"); // reclaimed by the payer: nothing of ours to send
  add(5, NOW - 60, "expired", "none"); // never opened
  add(6, NOW - 60, "closed", "locked"); // still followed
  const before = book.followed().map((l) => l.id);

  const again = book.followAgain(NOW, CLAIM_WINDOW);
  assert.deepEqual([...again].sort(), [released, slashed]);
  assert.deepEqual(
    book
      .followed()
      .map((l) => l.id)
      .sort(),
    [...before, released, slashed].sort(),
  );
  assert.equal(book.get(released)!.collateral, "locked", "until the next pass reads the chain's word");
  assert.deepEqual(book.followAgain(NOW, CLAIM_WINDOW), [], "already followed");
});
