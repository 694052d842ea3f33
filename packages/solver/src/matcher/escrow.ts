// Only offers backed by escrow are matched: an offer nobody backs holds nothing. Two filters, so
// the reason says whether waiting helps. `escrow`: the party's free escrow alone does not cover
// what the deal would lock (it must deposit first). `escrow-pending`: it would, but its other
// proposed or signed deals, not yet opened, hold part of it; they open or drop within a sign
// window, so this one is transient.
import { formatLily as lily, type JobOffer, type ResourceOffer } from "@lily/protocol";
import type { Address } from "viem";
import type { Backing, FilterPlugin, MatchContext } from "./filters.ts";
import type { Holds } from "./match.ts";
import { jobCreatorLock } from "./locks.ts";

/** Each party of the pair, what the deal (or replica group) would lock from it, and its escrow. */
function needs(job: JobOffer, offer: ResourceOffer, ctx: MatchContext): { who: string; lock: bigint; backing: Backing }[] {
  return [
    { who: "job creator", lock: jobCreatorLock(job), backing: ctx.escrow.jobCreator },
    { who: "provider", lock: offer.collateral, backing: ctx.escrow.provider },
  ];
}

export const escrowCovers: FilterPlugin = {
  name: "escrow",
  transient: false,
  filter(job, offer, ctx) {
    // REJECT: a party whose free escrow cannot cover what the deal locks could never open it
    const { jobCreator, provider } = ctx.escrow;
    if (jobCreator.free >= jobCreatorLock(job) && provider.free >= offer.collateral) return undefined; // both covered: nothing to list
    const short = needs(job, offer, ctx).find((n) => n.backing.free < n.lock);
    return short && `${short.who}: escrow ${lily(short.backing.free)} free, the deal would lock ${lily(short.lock)}`;
  },
};

export const escrowNotHeld: FilterPlugin = {
  name: "escrow-pending",
  transient: true,
  filter(job, offer, ctx) {
    // REJECT: escrow already promised to a party's unopened deals is not promised twice
    const { jobCreator, provider } = ctx.escrow;
    if (jobCreator.free - jobCreator.held >= jobCreatorLock(job) && provider.free - provider.held >= offer.collateral) return undefined;
    const short = needs(job, offer, ctx).find((n) => n.backing.free - n.backing.held < n.lock);
    return (
      short &&
      `${short.who}: escrow ${lily(short.backing.free)} free, ${lily(short.backing.held)} held for unopened deals, the deal would lock ${lily(short.lock)}`
    );
  },
};

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
  escrow: Pick<ReadonlyMap<Address, bigint>, "get">,
  held: Pick<Holds, "get">,
): string | undefined {
  const lock = jobCreatorLock(job);
  const free = escrow.get(job.jobCreator) ?? 0n;
  // Asked in the filters' order, as each pair would be (a lasting reason before the transient one).
  for (const f of filters) {
    if (f === escrowCovers && free < lock) return `${f.name}: job creator: escrow ${lily(free)} free, the deal would lock ${lily(lock)}`;
    if (f === escrowNotHeld) {
      const pending = held.get(job.jobCreator) ?? 0n;
      if (free - pending < lock)
        return `${f.name}: job creator: escrow ${lily(free)} free, ${lily(pending)} held for unopened deals, the deal would lock ${lily(lock)}`;
    }
  }
  return undefined;
}
