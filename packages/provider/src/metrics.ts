// The provider's metrics in Prometheus text, rendered on each scrape from its status (status.ts):
// the counters are sums over its database, not in-memory counts, so they survive a restart and
// never go back; the gauges are what holds and runs now. Units are in the names or in the
// `resource` label (memory_mb, vram_mb).
import type { DealStats } from "./db.ts";
import { family, histogram, type Sample } from "./promText.ts";
import { ENDED_STATUSES, type ProviderStatus } from "./status.ts";

/** Executor run times span WASM toys (milliseconds) to container models (minutes). */
export const DURATION_BUCKETS_SECONDS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600] as const;

const RESOURCE_LABELS = { cpu: "cpu", memoryMb: "memory_mb", gpu: "gpu", vramMb: "vram_mb" } as const;

export function renderMetrics(status: ProviderStatus, stats: DealStats): string {
  const perResource = (r: ProviderStatus["capacity"]): Sample[] =>
    (Object.keys(RESOURCE_LABELS) as (keyof typeof RESOURCE_LABELS)[]).map((k) => ({ labels: { resource: RESOURCE_LABELS[k] }, value: r[k] }));
  const ended = stats.deals.filter((d) => (ENDED_STATUSES as readonly string[]).includes(d.status));
  const byExecutor = new Map<string, number[]>();
  for (const d of stats.durations) byExecutor.set(d.executor, [...(byExecutor.get(d.executor) ?? []), d.seconds]);
  const parts = [
    family("lily_provider_up", "gauge", "1 while the provider runs.", [{ value: status.online ? 1 : 0 }]),
    family(
      "lily_provider_jobs_total",
      "counter",
      "Deals this provider was proposed that have ended, by module and outcome (settled, slashed, failed, unwound, declined, expired).",
      ended.map((d) => ({ labels: { module: d.module, outcome: d.status }, value: d.count })),
    ),
    family(
      "lily_provider_jobs_in_progress",
      "gauge",
      "Deals signed and not yet ended, by status.",
      ["signed", "opened", "ran", "committed"].map((s) => ({
        labels: { status: s },
        value: stats.deals.filter((d) => d.status === s).reduce((n, d) => n + d.count, 0),
      })),
    ),
    family(
      "lily_provider_job_failures_total",
      "counter",
      "Jobs that ran and exited non-zero (the module failed, hit a limit, or its inputs were refused), by module.",
      stats.failures.map((f) => ({ labels: { module: f.module }, value: f.count })),
    ),
    family("lily_provider_earnings_wei_total", "counter", "Paid by settled deals: each price less the module's royalty, in LILY wei.", [
      { value: status.earningsWei },
    ]),
    family("lily_provider_slashes_total", "counter", "Deals that cost this provider its collateral: slashed, or timed out on chain.", [
      { value: status.slashes },
    ]),
    family("lily_provider_slashed_collateral_wei_total", "counter", "Collateral lost to slashes and timeouts, in LILY wei.", [
      { value: status.slashedCollateralWei },
    ]),
    family("lily_provider_running_jobs", "gauge", "Jobs executing now.", [{ value: status.running?.jobs ?? 0 }]),
    family("lily_provider_capacity", "gauge", "What this provider offers, by resource.", perResource(status.capacity)),
    family("lily_provider_capacity_in_use", "gauge", "What its signed and opened deals hold of its capacity, by resource.", perResource(status.inUse)),
    family("lily_provider_held_jobs", "gauge", "Deals holding capacity now.", [{ value: status.heldJobs }]),
    family("lily_provider_resource_offers", "gauge", "Resource offers it holds on the solver's book (one per distinct price).", [
      { value: status.offers.length },
    ]),
    ...(status.diskFreeBytes !== undefined
      ? [family("lily_provider_disk_free_bytes", "gauge", "Free space under its work directory.", [{ value: status.diskFreeBytes }])]
      : []),
    histogram(
      "lily_provider_executor_duration_seconds",
      "How long the executor ran each job, by executor (wasm, docker).",
      DURATION_BUCKETS_SECONDS,
      [...byExecutor].map(([executor, observations]) => ({ labels: { executor }, observations })),
    ),
  ];
  return parts.join("");
}
