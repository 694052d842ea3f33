import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import type { Hex } from "viem";
import { isLilyError, type DealMessage } from "@lily/protocol";
import { MediatorDb } from "../src/db.ts";
import type { DisputeSighting } from "../src/dispute.ts";
import { tempDir } from "../../../test/support/tempDir.ts";

/** A chain time before any recheck time used below. */
const T = 1_000;
const dbPath = () => join(tempDir("lily-mediator-db-"), "mediator.db");
const key = (n: number) => `0x${n.toString(16).padStart(64, "0")}` as Hex;
const sighting = (n: number, blockNumber = 10 + n): DisputeSighting => ({
  key: key(n),
  kind: "challenge",
  event: "DealChallenged",
  txHash: key(1000 + n),
  blockNumber,
});
const deal: DealMessage = {
  jobCreator: "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
  provider: "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC",
  jobOffer: key(7),
  resourceOffer: key(8),
  price: 3n * 10n ** 18n,
  collateral: 5n * 10n ** 18n,
  openBy: 1_899_999_000n,
  deadline: 1_900_000_000n,
  policy: 1,
  policyParam: 60n,
  mediationFee: 10n ** 18n,
  mediators: key(9),
  replicas: key(0),
  moduleCreator: "0x0000000000000000000000000000000000000000",
  royaltyBps: 0,
};

test("a fresh database has scanned nothing and has nothing pending", () => {
  const db = new MediatorDb(dbPath());
  assert.equal(db.lastScannedBlock(), undefined);
  assert.deepEqual(db.pending(0, T), []);
  db.close();
});

test("a scan records its disputes and its cursor together, and a rescan adds nothing", () => {
  const db = new MediatorDb(dbPath());
  assert.equal(db.recordScan(20, [sighting(1), sighting(2)]), 2);
  assert.equal(db.recordScan(25, [sighting(2), sighting(3)]), 1);
  assert.equal(db.recordScan(22, []), 0);
  assert.equal(db.lastScannedBlock(), 25, "the cursor never moves back");
  assert.deepEqual(
    db.pending(25, T).map((d) => d.key),
    [key(1), key(2), key(3)],
  );
  assert.ok(db.pending(25, T).every((d) => d.status === "seen"));
  db.close();
});

test("a restarted mediator finds every dispute where it left it, terms and ruling included", () => {
  const path = dbPath();
  const db = new MediatorDb(path);
  db.recordScan(30, [sighting(1), sighting(2)]);
  db.update(key(1), { status: "seen", deals: [deal], mediators: ["0x90F79bf6EB2c4f870365E785982E1f101E93b906"] });
  db.update(key(1), { status: "re-running" });
  db.update(key(1), { status: "ruling", ruling: { correct: [false], comparator: 0, details: ["stdout: bytes differ"] } });
  db.close();

  const again = new MediatorDb(path);
  assert.equal(again.lastScannedBlock(), 30);
  const d = again.get(key(1))!;
  assert.equal(d.status, "ruling");
  assert.deepEqual(d.deals, [deal]);
  assert.deepEqual(d.ruling, { correct: [false], comparator: 0, details: ["stdout: bytes differ"] });
  assert.deepEqual(
    again.pending(30, T).map((x) => x.status),
    ["ruling", "seen"],
  );
  again.close();
});

test("a ruled dispute is final: never pending again, and no update can revive it", () => {
  const path = dbPath();
  const db = new MediatorDb(path);
  db.recordScan(40, [sighting(1)]);
  db.update(key(1), { status: "ruled", rulingTx: key(77), ruling: { correct: [true], comparator: 0, details: ["ok"] } });
  assert.deepEqual(db.pending(40, T), []);
  assert.throws(
    () => db.update(key(1), { status: "ruling" }),
    (e) => isLilyError(e, "CONFLICT") && e.field === "status",
  );
  db.recordScan(41, [sighting(1)]);
  assert.equal(db.get(key(1))!.status, "ruled", "seeing the event again changes nothing");
  db.close();
  // Even a direct write to the file is refused by the database itself.
  const raw = new DatabaseSync(path);
  assert.throws(() => raw.prepare("UPDATE disputes SET status = 'seen' WHERE key = ?").run(key(1)), /dispute is final/);
  raw.close();
});

test("not-mine and failed are final too", () => {
  const db = new MediatorDb(dbPath());
  db.recordScan(50, [sighting(1), sighting(2)]);
  db.update(key(1), { status: "not-mine", error: "not in the mediator list both parties accepted" });
  db.update(key(2), { status: "failed", error: "module manifest: not found" });
  assert.deepEqual(db.pending(50, T), []);
  assert.deepEqual(
    db.all().map((d) => [d.status, d.error]),
    [
      ["not-mine", "not in the mediator list both parties accepted"],
      ["failed", "module manifest: not found"],
    ],
  );
  db.close();
});

test("a dispute drawn to another mediator waits until the block at which the draw can change", () => {
  const db = new MediatorDb(dbPath());
  db.recordScan(60, [sighting(1)]);
  db.update(key(1), { status: "seen", recheckBlock: 300, error: "mediator 0xabc is drawn" });
  assert.deepEqual(db.pending(299, T), []);
  assert.deepEqual(
    db.pending(300, T).map((d) => d.key),
    [key(1)],
  );
  db.close();
});

test("a dispute waiting for another mediator's turn comes back at the turn's time or the draw's block, whichever comes first", () => {
  const db = new MediatorDb(dbPath());
  db.recordScan(60, [sighting(1), sighting(2)]);
  db.update(key(1), { status: "seen", recheckBlock: 300, recheckAt: 5_000, error: "mediator 0xabc has the turn" });
  db.update(key(2), { status: "seen", recheckAt: 5_000, error: "mediator 0xabc has the turn" }); // the draw is locked: time alone moves it
  assert.deepEqual(db.pending(299, 4_999), []);
  assert.deepEqual(
    db.pending(300, 4_999).map((d) => d.key),
    [key(1)],
    "the block came first",
  );
  assert.deepEqual(
    db.pending(299, 5_000).map((d) => d.key),
    [key(1), key(2)],
    "the time came first",
  );
  db.update(key(1), { status: "re-running", recheckBlock: undefined, recheckAt: undefined });
  assert.deepEqual(
    db.pending(0, 0).map((d) => d.key),
    [key(1)],
    "a dispute no longer waiting is always pending",
  );
  db.close();
});

test("a database written before turns were timed opens with its disputes and cursor intact", () => {
  const path = dbPath();
  const old = new MediatorDb(path);
  old.recordScan(80, [sighting(1)]);
  old.update(key(1), { status: "seen", recheckBlock: 400, error: "mediator 0xabc is drawn" });
  old.close();
  // Roll the file back to the first schema: no recheck_at column, no relied blocks, no revivals.
  const raw = new DatabaseSync(path);
  raw.exec(`DROP TABLE relied_blocks; DROP TRIGGER ruled_is_final;
    ALTER TABLE disputes DROP COLUMN revivals; ALTER TABLE disputes DROP COLUMN recheck_at;
    CREATE TRIGGER ruled_is_final BEFORE UPDATE ON disputes WHEN OLD.status IN ('ruled', 'not-mine', 'failed')
      BEGIN SELECT RAISE(ABORT, 'dispute is final'); END;
    UPDATE schema_version SET version = 1;`);
  raw.close();

  const db = new MediatorDb(path);
  assert.equal(db.lastScannedBlock(), 80);
  assert.equal(db.get(key(1))!.recheckBlock, 400);
  assert.equal(db.get(key(1))!.recheckAt, undefined);
  db.update(key(1), { status: "seen", recheckAt: 9_000 });
  assert.deepEqual(
    db.pending(0, 9_000).map((d) => d.key),
    [key(1)],
  );
  db.close();
});

test("keys are matched whatever their case", () => {
  const db = new MediatorDb(dbPath());
  const upper = `0x${"AB".repeat(32)}` as Hex;
  db.recordScan(1, [{ ...sighting(1), key: upper }]);
  assert.equal(db.get(upper.toLowerCase() as Hex)?.key, upper.toLowerCase());
  assert.equal(db.recordScan(2, [{ ...sighting(1), key: upper.toLowerCase() as Hex }]), 0);
  db.close();
});

test("a dispute that keeps failing is retried until the attempts run out, then failed for good", () => {
  const db = new MediatorDb(dbPath());
  db.recordScan(70, [sighting(1)]);
  db.update(key(1), { status: "re-running" });
  assert.equal(db.recordFailure(key(1), "the sandbox could not start", 3).status, "re-running");
  assert.equal(db.recordFailure(key(1), "the sandbox could not start", 3).attempts, 2);
  const d = db.recordFailure(key(1), "the sandbox could not start", 3);
  assert.equal(d.status, "failed");
  assert.equal(d.error, "the sandbox could not start");
  assert.deepEqual(db.pending(70, T), []);
  db.close();
});

test("when the chain lost blocks, disputes ruled or resolved since a time are followed again, the scan starts below the loss, and failed ones stay final", () => {
  let now = 1_000_000;
  const path = dbPath();
  const db = new MediatorDb(path, () => now);
  db.recordScan(90, [sighting(1), sighting(2), sighting(3), sighting(4)]);
  db.update(key(1), { status: "ruled", rulingTx: key(77), ruling: { correct: [false], comparator: 0, details: ["stdout: bytes differ"] } });
  now += 1_000;
  db.update(key(2), { status: "ruled", rulingTx: key(78), ruling: { correct: [true], comparator: 0, details: ["ok"] } });
  db.update(key(3), { status: "not-mine", error: "resolved without us (settled)" });
  db.update(key(4), { status: "failed", error: "module manifest: not found" });

  assert.equal(db.followAgain(70, now - 500), 2);
  assert.equal(db.lastScannedBlock(), 70, "the cursor moves back below the loss");
  assert.deepEqual(
    db.all().map((d) => [d.key, d.status]),
    [
      [key(1), "ruled"],
      [key(2), "seen"],
      [key(3), "seen"],
      [key(4), "failed"],
    ],
  );
  const revived = db.get(key(2))!;
  assert.deepEqual(revived.ruling, { correct: [true], comparator: 0, details: ["ok"] }, "the ruling is kept: sent again without a re-run");
  assert.deepEqual(
    db.pending(90, T).map((d) => d.key),
    [key(2), key(3)],
  );
  assert.equal(db.followAgain(80, now - 500), 0, "the cursor never moves forward by it");
  assert.equal(db.lastScannedBlock(), 70);
  db.close();
  // A revival is the one way back, and only counted: a plain write to 'seen' is still refused.
  const raw = new DatabaseSync(path);
  assert.throws(() => raw.prepare("UPDATE disputes SET status = 'seen' WHERE key = ?").run(key(1)), /dispute is final/);
  raw.close();
});

test("a dispute seen again while it waits (raised again after the chain lost it) is looked at on the next pass", () => {
  const db = new MediatorDb(dbPath());
  db.recordScan(60, [sighting(1)]);
  db.update(key(1), { status: "seen", recheckAt: T + 500, error: "the chain no longer has the dispute (committed): the node lost blocks?" });
  assert.deepEqual(db.pending(60, T), []);
  assert.equal(db.recordScan(61, [{ ...sighting(1, 61), txHash: key(2001) }]), 0, "not a new dispute");
  const d = db.get(key(1))!;
  assert.deepEqual([d.txHash, d.blockNumber, d.recheckAt], [key(2001), 61, undefined]);
  assert.deepEqual(
    db.pending(61, T).map((x) => x.key),
    [key(1)],
  );
  db.close();
});
