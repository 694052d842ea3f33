// A worker thread for the concurrency test: its own connection to Halo's database file, waiting at
// a barrier so every worker races at once, then trying to hold spending on one key again and again.
import { parentPort, workerData } from "node:worker_threads";
import { join } from "node:path";
import { openDatabase } from "@lily/node-kit";
import { isLilyError } from "@lily/protocol";
import { haloMigrations, reserveSpend, settleSpend } from "../../src/halo/index.ts";

const { home, keyId, maxWei, attempts, barrier, settleWei } = workerData as {
  home: string;
  keyId: string;
  maxWei: string;
  attempts: number;
  barrier: SharedArrayBuffer;
  settleWei?: string;
};
const db = openDatabase(join(home, "halo.sqlite"), haloMigrations);
const gate = new Int32Array(barrier);
Atomics.add(gate, 1, 1);
Atomics.wait(gate, 0, 0);
let held = 0;
let refused = 0;
for (let i = 0; i < attempts; i++) {
  try {
    const r = reserveSpend(db, keyId, BigInt(maxWei));
    held++;
    if (settleWei !== undefined) settleSpend(db, r, BigInt(settleWei));
  } catch (e) {
    if (!isLilyError(e, "QUOTA_EXCEEDED")) throw e;
    refused++;
  }
}
db.close();
parentPort!.postMessage({ held, refused });
