// What would make a job match now, as the flags to change: the solver's clearing price as a
// --max-price, and for a policy no provider can accept with these terms the least change that
// one provider would (for audit:p the least p its collateral backs, a mediation fee its
// collateral covers, a replica count the providers can fill). Pure: offers and explanation in.
import { formatUnits } from "viem";
import { PPM, type JobOffer, type ResourceOffer } from "@lily/protocol";
import { policyById, type PolicyStrategy } from "@lily/verification";

export interface MatchFacts {
  /** The least price at which some provider would take the job, if price were the only obstacle. */
  clearingPrice?: bigint;
}

const lily = (v: bigint) => formatUnits(v, 18);

export function whatWouldMatch(job: JobOffer, facts: MatchFacts, offers: readonly ResourceOffer[]): string[] {
  const hints: string[] = [];
  const budget = facts.clearingPrice !== undefined && facts.clearingPrice > job.maxPrice ? facts.clearingPrice : job.maxPrice;
  if (budget > job.maxPrice) hints.push(`--max-price ${lily(budget)}`);
  const strategy = policyById(job.policy);
  if (!strategy) return hints;
  // The providers that would run this module within that budget; the policy decides the rest.
  const fitting = offers.filter((o) => o.modules.includes(job.module) && o.price <= budget);
  const safe = (o: ResourceOffer, t: Partial<{ param: bigint; mediationFee: bigint }> = {}) =>
    strategy.check({ price: o.price, collateral: o.collateral, mediationFee: t.mediationFee ?? job.mediationFee, param: t.param ?? job.policyParam }) ===
    undefined;
  const k = strategy.dealsPerJob(job.policyParam);
  const providers = new Set(fitting.filter((o) => safe(o)).map((o) => o.provider.toLowerCase()));
  if (providers.size >= k || fitting.length === 0) return hints;
  return [...hints, ...policyHints(strategy, job, fitting, safe)];
}

function policyHints(
  strategy: PolicyStrategy,
  job: JobOffer,
  fitting: readonly ResourceOffer[],
  safe: (o: ResourceOffer, t?: { param?: bigint; mediationFee?: bigint }) => boolean,
): string[] {
  const hints: string[] = [];
  // A mediation fee the provider's collateral covers (every mediated policy requires it).
  const maxCollateral = fitting.reduce((m, o) => (o.collateral > m ? o.collateral : m), 0n);
  if (strategy.needsMediators && job.mediationFee > maxCollateral && maxCollateral > 0n) hints.push(`--mediation-fee ${lily(maxCollateral)}`);
  const fee = job.mediationFee > maxCollateral ? maxCollateral : job.mediationFee;
  if (strategy.name === "audit") {
    // The least p with p × collateral ≥ price, over the providers whose collateral covers the fee.
    const least = fitting
      .filter((o) => o.collateral > 0n && o.collateral >= fee)
      // Rounded up, and at least 1 ppm: audit(0) is not a policy.
      .map((o) => (o.price * PPM + o.collateral - 1n) / o.collateral || 1n)
      .filter((p) => p <= PPM)
      .reduce<bigint | undefined>((m, p) => (m === undefined || p < m ? p : m), undefined);
    if (least !== undefined && least > job.policyParam) hints.push(`--policy ${strategy.format(least)}`);
  }
  if (strategy.name === "replicate") {
    const distinct = new Set(fitting.filter((o) => safe(o, { mediationFee: fee })).map((o) => o.provider.toLowerCase())).size;
    if (distinct >= 2 && BigInt(distinct) < job.policyParam) hints.push(`--policy ${strategy.format(BigInt(distinct))}`);
  }
  return hints;
}
