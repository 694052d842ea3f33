// The provider's status and metrics are sums over its database: earnings (price less royalty) from
// settled deals, collateral lost to slashes and timeouts, jobs by module and outcome, failures,
// executor run times; so they read the same after a restart. The text is checked by a strict
// reader of the Prometheus format.
import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { parseEther, type Address, type Hex } from "viem";
import { NO_MEDIATORS, NO_REPLICAS, Policy, type DealMessage } from "@lily/protocol";
import { ProviderDb, type LocalDeal } from "../src/db.ts";
import { DURATION_BUCKETS_SECONDS, renderMetrics } from "../src/metrics.ts";
import { family, histogram } from "../src/promText.ts";
import { statusFromDb } from "../src/status.ts";
import { parsePrometheus } from "./promParse.ts";
import { tempDir } from "../../../test/support/tempDir.ts";

const NOW = 1_900_000_000;
const JC: Address = "0x00000000000000000000000000000000000000C3";
const CREATOR: Address = "0x00000000000000000000000000000000000000D4";
const PRICE = parseEther("3");
const COLLATERAL = parseEther("5");
const id = (n: number) => `0x${n.toString(16).padStart(64, "0")}` as Hex;

function deal(n: number, status: LocalDeal["status"], o: Partial<LocalDeal> & { royaltyBps?: number } = {}): LocalDeal {
  const { royaltyBps = 0, ...rest } = o;
  const terms: DealMessage = {
    jobCreator: JC,
    provider: "0x00000000000000000000000000000000000000A1",
    jobOffer: id(1000 + n),
    resourceOffer: id(2),
    price: PRICE,
    collateral: COLLATERAL,
    openBy: BigInt(NOW + 60),
    deadline: BigInt(NOW + 660),
    policy: Policy.trust,
    policyParam: 0n,
    mediationFee: 0n,
    mediators: NO_MEDIATORS,
    replicas: NO_REPLICAS,
    moduleCreator: royaltyBps ? CREATOR : "0x0000000000000000000000000000000000000000",
    royaltyBps,
  };
  return { id: id(n), deal: terms, module: "bafy-module", inputs: "bafy-inputs", needs: { cpu: 1, memoryMb: 256, gpu: 0, vramMb: 0 }, status, ...rest };
}

/** A provider's history: two paid (one with a 10% royalty), one slashed, one timed out, one unwound, one declined, two under way. */
function history(path: string): void {
  const db = new ProviderDb(path);
  const ran = { moduleRef: "ocr@1.0.0", executor: "docker" };
  db.put(deal(1, "settled", { ...ran, exitCode: 0, durationMs: 400 }));
  db.put(deal(2, "settled", { ...ran, exitCode: 1, durationMs: 3000, royaltyBps: 1000 }));
  db.put(deal(3, "slashed", { moduleRef: "cowsay@1.0.0", executor: "wasm", exitCode: 0, durationMs: 40 }));
  db.put(deal(4, "failed", { moduleRef: "cowsay@1.0.0", executor: "wasm" }));
  db.put(deal(5, "unwound", { moduleRef: "cowsay@1.0.0", executor: "wasm", exitCode: 0, durationMs: 60 }));
  db.put(deal(6, "declined"));
  db.put(deal(7, "opened", ran));
  db.put(deal(8, "signed", ran));
  db.close();
}

const earned = PRICE + (PRICE - PRICE / 10n);

test("status sums the database: jobs by outcome, earnings less royalty, collateral lost, capacity its deals hold", () => {
  const path = join(tempDir("lily-provider-metrics-"), "provider.db");
  history(path);
  const db = new ProviderDb(path);
  const { status } = statusFromDb(db, NOW);
  db.close();
  assert.equal(status.online, false);
  assert.deepEqual(status.jobs, { settled: 2, slashed: 1, failed: 1, unwound: 1, declined: 1, expired: 0, inProgress: 2 });
  assert.equal(status.earningsWei, earned);
  assert.equal(status.slashes, 2, "slashed and timed out: the unwound dispute gave the collateral back");
  assert.equal(status.slashedCollateralWei, 2n * COLLATERAL);
  assert.equal(status.failures, 1);
  assert.deepEqual(status.inUse, { cpu: 2, memoryMb: 512, gpu: 0, vramMb: 0 });
  assert.equal(status.heldJobs, 2);
});

test("the metrics text is valid Prometheus exposition, and says the same after the database is reopened", () => {
  const path = join(tempDir("lily-provider-metrics-"), "provider.db");
  history(path);
  const read = () => {
    const db = new ProviderDb(path);
    try {
      const { status, stats } = statusFromDb(db, NOW);
      return renderMetrics(status, stats);
    } finally {
      db.close();
    }
  };
  const text = read();
  assert.equal(read(), text, "a restart reads the same counters");
  const m = parsePrometheus(text);
  assert.equal(m.types.get("lily_provider_jobs_total"), "counter");
  assert.equal(m.value("lily_provider_jobs_total", { module: "ocr@1.0.0", outcome: "settled" }), 2);
  assert.equal(m.value("lily_provider_jobs_total", { module: "cowsay@1.0.0", outcome: "slashed" }), 1);
  assert.equal(m.value("lily_provider_jobs_total", { module: "bafy-module", outcome: "declined" }), 1, "a module never checked is named by its CID");
  assert.equal(m.value("lily_provider_jobs_in_progress", { status: "opened" }), 1);
  assert.equal(m.value("lily_provider_job_failures_total", { module: "ocr@1.0.0" }), 1);
  assert.equal(m.value("lily_provider_earnings_wei_total"), Number(earned));
  assert.equal(m.value("lily_provider_slashes_total"), 2);
  assert.equal(m.value("lily_provider_slashed_collateral_wei_total"), Number(2n * COLLATERAL));
  assert.equal(m.value("lily_provider_capacity_in_use", { resource: "memory_mb" }), 512);
  assert.equal(m.types.get("lily_provider_executor_duration_seconds"), "histogram");
  assert.equal(m.value("lily_provider_executor_duration_seconds_count", { executor: "docker" }), 2);
  assert.equal(m.value("lily_provider_executor_duration_seconds_sum", { executor: "docker" }), 3.4);
  assert.equal(m.value("lily_provider_executor_duration_seconds_bucket", { executor: "docker", le: "0.5" }), 1);
  assert.equal(m.value("lily_provider_executor_duration_seconds_bucket", { executor: "docker", le: "2.5" }), 1);
  assert.equal(m.value("lily_provider_executor_duration_seconds_bucket", { executor: "docker", le: "5" }), 2);
  assert.equal(m.value("lily_provider_executor_duration_seconds_bucket", { executor: "docker", le: "+Inf" }), 2);
  assert.equal(m.value("lily_provider_executor_duration_seconds_count", { executor: "wasm" }), 2, "the timed-out job never ran");
});

test("label values are escaped, and histogram buckets are cumulative", () => {
  const text =
    family("x_total", "counter", "a help\nline", [{ labels: { module: 'a"b\\c\nd' }, value: 1 }]) +
    histogram("y_seconds", "h", DURATION_BUCKETS_SECONDS, [{ labels: { executor: "wasm" }, observations: [0.01, 0.3, 7, 5000] }]);
  const m = parsePrometheus(text);
  assert.equal(m.value("x_total", { module: 'a"b\\c\nd' }), 1);
  const buckets = m.samples.filter((s) => s.name === "y_seconds_bucket").map((s) => s.value);
  assert.deepEqual(
    buckets,
    [...buckets].sort((a, b) => a - b),
    "never decreasing",
  );
  assert.equal(m.value("y_seconds_bucket", { executor: "wasm", le: "0.05" }), 1);
  assert.equal(m.value("y_seconds_bucket", { executor: "wasm", le: "3600" }), 3);
  assert.equal(m.value("y_seconds_bucket", { executor: "wasm", le: "+Inf" }), 4);
});
