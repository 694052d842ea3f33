// What ending deals does to the rest of the book, as a pure function: which deals end, which
// providers are excluded from which job offers, which job offers go back on the book. No I/O:
// the caller reads the deals, applies the plan in one transaction, then publishes.
//
// Under replicate(k) the k deals of a job offer are one replica group, and it breaks as a unit
// before it reaches the chain: one replica rejected, dropped unsigned or timed out while none of
// the group has opened rejects the others still proposed or signed, and the job offer is
// re-matched whole (only the culprit is excluded). Once any replica has opened the contract
// settles the group (a replica that never opens is unwound by claimMediationTimeout), so the
// job offer is not re-matched and the other replicas run on.
import type { Address, Hex } from "viem";
import { Policy, type DealRecord, type DealStatus } from "@lily/protocol";

export interface Ending {
  /** The deal as it was before it ended. */
  deal: DealRecord;
  status: "rejected" | "timed-out";
  /** Stored on the deal. */
  error?: string;
  /** Why it ended, in words: what the rest of a broken replica group is told. */
  why: string;
  /** When its provider is to blame: excluded from the job offer with this reason. */
  exclude?: string;
}

export interface EndingPlan {
  /** Status changes: the endings themselves, then the replicas of broken groups (with the deal that broke them). */
  deals: { id: Hex; status: "rejected" | "timed-out"; error?: string; brokenBy?: Hex }[];
  exclusions: { jobOfferId: Hex; provider: Address; reason: string }[];
  /** Job offers to put back on the book, each with a deal of the group that held it. */
  reopen: { jobOfferId: Hex; dealId: Hex }[];
}

/** A replica in one of these has reached the chain: the contract settles its group from then on. */
const ON_CHAIN: readonly DealStatus[] = ["opened", "running", "committed", "timed-out"];
/** A replica in one of these can still be dropped without anyone's funds moving. */
const OFF_CHAIN: readonly DealStatus[] = ["proposed", "signed"];

/**
 * @param groups job offer id -> the deals holding it (its `dealIds`), as they were before any of
 *   `endings` was applied.
 */
export function planEndings(endings: readonly Ending[], groups: ReadonlyMap<Hex, readonly DealRecord[]>): EndingPlan {
  const plan: EndingPlan = { deals: [], exclusions: [], reopen: [] };
  const ending = new Set(endings.map((e) => e.deal.id));
  const byJob = new Map<Hex, Ending[]>();
  for (const e of endings) {
    plan.deals.push({ id: e.deal.id, status: e.status, ...(e.error !== undefined && { error: e.error }) });
    if (e.exclude !== undefined) plan.exclusions.push({ jobOfferId: e.deal.jobOfferId, provider: e.deal.deal.provider, reason: e.exclude });
    byJob.set(e.deal.jobOfferId, [...(byJob.get(e.deal.jobOfferId) ?? []), e]);
  }
  for (const [jobOfferId, ended] of byJob) {
    const group = groups.get(jobOfferId) ?? [];
    // Only a deal still holding its job offer releases it (an earlier group's deal never does).
    const culprit = ended.find((e) => group.some((d) => d.id === e.deal.id));
    if (!culprit) continue;
    if (culprit.deal.deal.policy === Policy.replicate) {
      if (group.some((d) => ON_CHAIN.includes(d.status))) continue;
      for (const d of group) {
        if (!ending.has(d.id) && OFF_CHAIN.includes(d.status)) plan.deals.push({ id: d.id, status: "rejected", error: `replica group broken: ${culprit.why}`, brokenBy: culprit.deal.id });
      }
    }
    plan.reopen.push({ jobOfferId, dealId: culprit.deal.id });
  }
  return plan;
}
