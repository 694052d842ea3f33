// What a deal locks from each party's escrow when it opens, as the contract does it: the job
// creator's price plus the policy's reserve (one mediation fee under a policy that can reach a
// mediator), the provider's collateral. A replicated job locks that once per replica.
import { policyById, type PolicyStrategy } from "@lily/verification";
import type { DealMessage, JobOffer } from "@lily/protocol";

/** The known strategies by id, as `policyById` finds them once: it lists the policies' names per call, and a pair evaluated asks up to six times. */
const strategies: (PolicyStrategy | undefined)[] = [];

/** `policyById`, kept for the ids it knows (unknown ids are asked again: they are not kept, so nothing grows with bad input). */
export function strategyOf(id: number): PolicyStrategy | undefined {
  const known = strategies[id];
  if (known !== undefined) return known;
  const s = policyById(id);
  if (s !== undefined && Number.isInteger(id) && id >= 0 && id < 256) strategies[id] = s;
  return s;
}

/** How many deals, each with a distinct provider, a job offer needs: k under replicate(k), else 1. */
export function dealsPerJob(job: Pick<JobOffer, "policy" | "policyParam">): number {
  return Math.max(1, strategyOf(job.policy)?.dealsPerJob(job.policyParam) ?? 1);
}

/** What the job creator holds in reserve per deal beyond the price: the mediation fee, when the policy can reach a mediator. */
export function reserveOf(policy: number, mediationFee: bigint): bigint {
  return strategyOf(policy)?.needsMediators ? mediationFee : 0n;
}

// The last job's terms `jobCreatorLock` read, and its lock: the matcher asks it for one job again
// and again (the job as a whole, then each offer it evaluates, in two filters), and each answer
// took three bigint allocations.
// (Nothing read yet: undefined equals no term.)
let lastMaxPrice: bigint | undefined;
let lastPolicy: number | undefined;
let lastParam: bigint | undefined;
let lastFee: bigint | undefined;
let lastLock = 0n;

/** The most a job offer's deals lock from its job creator: maxPrice and the reserve, once per replica. */
export function jobCreatorLock(job: JobOffer): bigint {
  const { maxPrice, policy, policyParam, mediationFee } = job;
  if (maxPrice === lastMaxPrice && policy === lastPolicy && policyParam === lastParam && mediationFee === lastFee) return lastLock;
  const lock = (maxPrice + reserveOf(policy, mediationFee)) * BigInt(dealsPerJob(job));
  lastMaxPrice = maxPrice;
  lastPolicy = policy;
  lastParam = policyParam;
  lastFee = mediationFee;
  lastLock = lock;
  return lock;
}

/** What one deal locks from each party when it opens. */
export function dealLocks(deal: Pick<DealMessage, "price" | "collateral" | "policy" | "mediationFee">): { jobCreator: bigint; provider: bigint } {
  return { jobCreator: deal.price + reserveOf(deal.policy, deal.mediationFee), provider: deal.collateral };
}
