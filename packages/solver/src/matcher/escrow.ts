// Only offers backed by escrow are matched: an offer nobody backs holds nothing. Two filters, so
// the reason says whether waiting helps. `escrow`: the party's free escrow alone does not cover
// what the deal would lock (it must deposit first). `escrow-pending`: it would, but its other
// proposed or signed deals, not yet opened, hold part of it; they open or drop within a sign
// window, so this one is transient.
import { formatLily as lily, type JobOffer } from "@lily/protocol";
import type { Backing, FilterPlugin } from "./filters.ts";
import type { Holds } from "./match.ts";
import { jobCreatorLock } from "./locks.ts";
import { backingKey, trustBacked, type BackingKey } from "./backing.ts";

/**
 * One escrow rule, for one party: whether its backing covers what the deal would lock, and why
 * not. The filters ask it of both parties of a pair; jobCreatorRejection of the job creator alone.
 */
interface EscrowRule {
  backs(backing: Backing, lock: bigint): boolean;
  why(who: string, backing: Backing, lock: bigint): string;
}

/** "escrow", or the contract's when it is not LilyDeals' ("LilyTrustDeals escrow"). */
const named = (b: Backing) => (b.escrow === undefined ? "escrow" : `${b.escrow} escrow`);

// REJECT: a party whose free escrow cannot cover what the deal locks could never open it
const freeCovers: EscrowRule = {
  backs: (b, lock) => b.free >= lock,
  why: (who, b, lock) => `${who}: ${named(b)} ${lily(b.free)} free, the deal would lock ${lily(lock)}`,
};

// REJECT: escrow already promised to a party's unopened deals is not promised twice
const notPromised: EscrowRule = {
  backs: (b, lock) => b.free - b.held >= lock,
  why: (who, b, lock) => `${who}: ${named(b)} ${lily(b.free)} free, ${lily(b.held)} held for unopened deals, the deal would lock ${lily(lock)}`,
};

/** The filter of a rule: the job creator's side first, then the provider's (the order the reason names). */
function escrowFilter(name: string, transient: boolean, rule: EscrowRule): FilterPlugin {
  return {
    name,
    transient,
    filter(job, offer, ctx) {
      const { jobCreator, provider } = ctx.escrow;
      const lock = jobCreatorLock(job);
      if (!rule.backs(jobCreator, lock)) return rule.why("job creator", jobCreator, lock);
      if (!rule.backs(provider, offer.collateral)) return rule.why("provider", provider, offer.collateral);
      return undefined;
    },
  };
}

export const escrowCovers = escrowFilter("escrow", false, freeCovers);
export const escrowNotHeld = escrowFilter("escrow-pending", true, notPromised);
const rules = new Map<FilterPlugin, EscrowRule>([
  [escrowCovers, freeCovers],
  [escrowNotHeld, notPromised],
]);

/**
 * The rejection every pair of `job` gets from these filters for its job creator's escrow alone
 * (as `filter: reason`), or undefined when that side is covered: what does not depend on the offer
 * is checked once per job, not once per offer. A job whose creator has not deposited would
 * otherwise evaluate every offer it could use and keep a reason per provider (a restarted solver
 * with 100k offers and 12k such jobs: minutes, and gigabytes of reasons).
 */
export function jobCreatorRejection(
  filters: readonly FilterPlugin[],
  job: JobOffer,
  escrow: Pick<ReadonlyMap<BackingKey, bigint>, "get">,
  held: Pick<Holds, "get">,
  trustEscrow?: boolean,
): string | undefined {
  const lock = jobCreatorLock(job);
  const trust = trustBacked(trustEscrow, job);
  const key = backingKey(job.jobCreator, trust);
  const backing: Backing = { free: escrow.get(key) ?? 0n, held: held.get(key) ?? 0n, ...(trust && { escrow: "LilyTrustDeals" }) };
  // Asked in the filters' order, as each pair would be (a lasting reason before the transient one).
  for (const f of filters) {
    const rule = rules.get(f);
    if (rule && !rule.backs(backing, lock)) return `${f.name}: ${rule.why("job creator", backing, lock)}`;
  }
  return undefined;
}
