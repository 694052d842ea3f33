// The provider's database: every field of a deal survives a restart, and a database written by an
// earlier version (one table, no kept job details) opens and its deals are still followed.
import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { getAddress } from "viem";
import { openDatabase } from "@lily/node-kit";
import { NO_MEDIATORS, Policy, replicaGroupHash, toWire, type DealMessage } from "@lily/protocol";
import { ProviderDb, type LocalDeal } from "../src/db.ts";
import { tempDir } from "../../../test/support/tempDir.ts";

const A = getAddress("0x00000000000000000000000000000000000000a1");
const B = getAddress("0x00000000000000000000000000000000000000b2");
const deal: DealMessage = {
  jobCreator: "0x00000000000000000000000000000000000000C3",
  provider: A,
  jobOffer: `0x${"1".repeat(64)}`,
  resourceOffer: `0x${"2".repeat(64)}`,
  price: 3n,
  collateral: 5n,
  openBy: 10n,
  deadline: 20n,
  policy: Policy.replicate,
  policyParam: 2n,
  mediationFee: 1n,
  mediators: `0x${"3".repeat(64)}`,
  replicas: replicaGroupHash([A, B]),
  moduleCreator: "0x00000000000000000000000000000000000000C3",
  royaltyBps: 0,
};
const dbPath = () => join(tempDir("lily-provider-db-"), "provider.db");

test("every field of a local deal is read back as it was written", () => {
  const path = dbPath();
  const local: LocalDeal = {
    id: `0x${"a".repeat(64)}`,
    deal,
    module: "bafy-m",
    inputs: "bafy-i",
    needs: { cpu: 1, memoryMb: 64, gpu: 0, vramMb: 2 },
    status: "ran",
    group: [A, B],
    replicas: [deal, { ...deal, provider: B }],
    openRefused: "escrow",
    resultCid: "bafy-r",
    exitCode: 125,
    inputsRestored: true,
    reported: "running",
    error: "none",
  };
  const db = new ProviderDb(path);
  db.put(local);
  db.close();
  const again = new ProviderDb(path);
  assert.deepEqual(again.get(local.id), local);
  assert.deepEqual(again.followed(), [local]);
  again.close();
});

test("a database an earlier provider wrote opens, and its deals are followed without claiming capacity they never named", () => {
  const path = dbPath();
  const old = openDatabase(path, [
    `CREATE TABLE deals (id TEXT PRIMARY KEY, deal TEXT NOT NULL, module TEXT NOT NULL, inputs TEXT NOT NULL, status TEXT NOT NULL, result_cid TEXT, error TEXT, updated_at INTEGER NOT NULL)`,
  ]);
  const trust = { ...deal, policy: Policy.trust, policyParam: 0n, mediators: NO_MEDIATORS, replicas: NO_MEDIATORS };
  old
    .prepare("INSERT INTO deals VALUES (?, ?, ?, ?, ?, ?, ?, ?)")
    .run(`0x${"b".repeat(64)}`, JSON.stringify(toWire(trust)), "bafy-m", "bafy-i", "opened", null, null, 1);
  old.close();
  const db = new ProviderDb(path);
  const [d] = db.followed();
  assert.equal(d?.status, "opened");
  assert.deepEqual(d?.deal, trust);
  assert.deepEqual(d?.needs, { cpu: 0, memoryMb: 0, gpu: 0, vramMb: 0 });
  assert.deepEqual(db.offers(), []);
  db.close();
});
