// What a provider says of itself: served as JSON at /status by its metrics server and read by
// `lily provider status`, or read from its database when it is not running. Everything about
// past work (jobs by outcome, earnings, slashes) is summed from the database, so it survives
// restarts and reads the same whether the provider is up or not; what runs now and the disk are
// only known to a running provider.
import * as z from "zod";
import { address, hex32, uint } from "@lily/protocol";
import { heldCapacity, heldDeals } from "./capacity.ts";
import type { DealStats, LocalDealStatus, ProviderDb } from "./db.ts";

const resources = z.object({ cpu: z.number(), memoryMb: z.number(), gpu: z.number(), vramMb: z.number() });

/** Statuses a deal ends in, and those in which it is still under way. */
export const ENDED_STATUSES = ["settled", "slashed", "failed", "unwound", "declined", "expired"] as const satisfies readonly LocalDealStatus[];
const inProgress: readonly LocalDealStatus[] = ["signed", "opened", "ran", "committed"];

export const ProviderStatus = z.object({
  /** Its account (absent: it never made an offer, and is read from its database). */
  address: address.optional(),
  /** Whether the provider answered (false: read from its database). */
  online: z.boolean(),
  /** When the running provider started (ms since the epoch). */
  startedAt: z.number().optional(),
  /** Its current resource offers (offline: the newest it made). */
  offers: z.array(z.object({ id: hex32, price: uint, modules: z.number().int(), expiresAt: uint })),
  capacity: resources,
  /** What its signed and opened deals hold of the capacity. */
  inUse: resources,
  /** Deals holding capacity, and the most it takes at once. */
  heldJobs: z.number().int(),
  maxConcurrentJobs: z.number().int().optional(),
  /** Jobs executing now, and what they hold (a running provider only). */
  running: z.object({ jobs: z.number().int(), resources }).optional(),
  diskFreeBytes: z.number().optional(),
  /** Deals by outcome (ended) and `inProgress`. */
  jobs: z.record(z.string(), z.number().int()),
  /** Jobs that ran and exited non-zero. */
  failures: z.number().int(),
  /** Earned from settled deals: price less royalty, wei. */
  earningsWei: uint,
  /** Deals that cost this provider its collateral (slashed, timed out), and the collateral lost, wei. */
  slashes: z.number().int(),
  slashedCollateralWei: uint,
});
export type ProviderStatus = z.infer<typeof ProviderStatus>;

/** What only a running provider knows, added to what its database says. */
export interface LiveReadings {
  startedAt: number;
  offerIds: readonly string[];
  capacity: ProviderStatus["capacity"];
  maxConcurrentJobs?: number;
  running: NonNullable<ProviderStatus["running"]>;
  diskFreeBytes: number;
}

/** The provider's status from its database at `now` (unix seconds), with `live` readings when it runs. */
export function statusFromDb(db: ProviderDb, now: number, live?: LiveReadings): { status: ProviderStatus; stats: DealStats } {
  const stats = db.stats();
  const offers = db.offers();
  const current = live ? offers.filter((o) => live.offerIds.includes(o.id.toLowerCase())) : offers.slice(-1);
  const newest = offers.at(-1)?.offer;
  const followed = db.followed();
  const jobs: Record<string, number> = Object.fromEntries([...ENDED_STATUSES, "inProgress"].map((s) => [s, 0]));
  for (const d of stats.deals) {
    const key = inProgress.includes(d.status) ? "inProgress" : d.status;
    jobs[key] = (jobs[key] ?? 0) + d.count;
  }
  const count = (s: LocalDealStatus) => stats.deals.filter((d) => d.status === s).reduce((n, d) => n + d.count, 0);
  const status: ProviderStatus = {
    ...(newest && { address: newest.provider }),
    online: live !== undefined,
    ...(live && { startedAt: live.startedAt }),
    offers: current.map((o) => ({ id: o.id, price: o.offer.price, modules: o.offer.modules.length, expiresAt: o.offer.expiresAt })),
    capacity:
      live?.capacity ??
      (newest ? { cpu: newest.cpu, memoryMb: newest.memoryMb, gpu: newest.gpu, vramMb: newest.vramMb } : { cpu: 0, memoryMb: 0, gpu: 0, vramMb: 0 }),
    inUse: heldCapacity(followed, now),
    heldJobs: heldDeals(followed, now),
    ...(live?.maxConcurrentJobs !== undefined && { maxConcurrentJobs: live.maxConcurrentJobs }),
    ...(live && { running: live.running, diskFreeBytes: live.diskFreeBytes }),
    jobs,
    failures: stats.failures.reduce((n, f) => n + f.count, 0),
    earningsWei: stats.earnedWei,
    slashes: count("slashed") + count("failed"),
    slashedCollateralWei: stats.lostCollateralWei,
  };
  return { status, stats };
}
