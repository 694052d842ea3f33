// What ending deals does to the rest of the book, as a pure function: which deals end, which
// providers are excluded from which job offers, which job offers go back on the book. No I/O:
// the caller reads the deals, applies the plan in one transaction, then publishes.
//
// Under replicate(k) the k deals of a job offer are one replica group, and it breaks as a unit
// before it reaches the chain: one replica rejected, dropped unsigned or timed out while none of
// the group has opened rejects the others still proposed or signed, and the job offer is
// re-matched whole (only the culprit is excluded). A group opens whole (openReplicas) or not at
// all; once it has opened the contract settles it, so the job offer is not re-matched and the
// other replicas run on.
//
// A job creator that does not sign in the sign window abandons its job offer: it is never
// re-matched, and its other unopened deals are dropped. A provider that does not sign loses the
// job, and its resource offer comes off the book until it posts a new one.
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
  /** The provider did not sign: its resource offers come off the book until it posts a new one. */
  deactivate?: true;
  /** The job creator did not sign: its job offer is abandoned (never re-matched, its other unopened deals dropped). */
  abandon?: true;
}

export interface EndingPlan {
  /** Status changes: the endings themselves, then the replicas of broken groups (with the deal that broke them). */
  deals: { id: Hex; status: "rejected" | "timed-out"; error?: string; brokenBy?: Hex }[];
  exclusions: { jobOfferId: Hex; provider: Address; reason: string }[];
  /** Job offers to put back on the book, each with a deal of the group that held it. */
  reopen: { jobOfferId: Hex; dealId: Hex }[];
  /** Job offers their job creators abandoned. */
  abandon: Hex[];
  /** Providers whose resource offers come off the book. */
  deactivate: Address[];
}

/** A replica in one of these has reached the chain (or says it has): the contract settles its group from then on. */
const ON_CHAIN: readonly DealStatus[] = ["opened", "running", "committed", "timed-out"];
/** A replica in one of these can still be dropped without anyone's funds moving. */
const OFF_CHAIN: readonly DealStatus[] = ["proposed", "signed"];

/**
 * @param groups job offer id -> the deals holding it (its `dealIds`), as they were before any of
 *   `endings` was applied.
 */
export function planEndings(endings: readonly Ending[], groups: ReadonlyMap<Hex, readonly DealRecord[]>): EndingPlan {
  const plan: EndingPlan = { deals: [], exclusions: [], reopen: [], abandon: [], deactivate: [] };
  const ending = new Set(endings.map((e) => e.deal.id));
  // A deal rejected now never opened, whatever it reported: it does not keep its group on chain.
  const neverOpened = new Set(endings.filter((e) => e.status === "rejected").map((e) => e.deal.id));
  const byJob = new Map<Hex, Ending[]>();
  // Linear in the endings: a restart may end thousands at once (a list searched per ending was quadratic).
  const deactivate = new Set<Address>();
  for (const e of endings) {
    plan.deals.push({ id: e.deal.id, status: e.status, ...(e.error !== undefined && { error: e.error }) });
    if (e.exclude !== undefined) plan.exclusions.push({ jobOfferId: e.deal.jobOfferId, provider: e.deal.deal.provider, reason: e.exclude });
    if (e.deactivate) deactivate.add(e.deal.deal.provider);
    const ofJob = byJob.get(e.deal.jobOfferId);
    if (ofJob) ofJob.push(e);
    else byJob.set(e.deal.jobOfferId, [e]);
  }
  plan.deactivate.push(...deactivate);
  for (const [jobOfferId, ended] of byJob) {
    const group = groups.get(jobOfferId) ?? [];
    const abandoned = ended.find((e) => e.abandon);
    if (abandoned) {
      plan.abandon.push(jobOfferId);
      for (const d of group) {
        if (!ending.has(d.id) && OFF_CHAIN.includes(d.status))
          plan.deals.push({ id: d.id, status: "rejected", error: `job offer abandoned: ${abandoned.why}`, brokenBy: abandoned.deal.id });
      }
      continue;
    }
    // Only a deal still holding its job offer releases it (an earlier group's deal never does).
    const culprit = ended.find((e) => group.some((d) => d.id === e.deal.id));
    if (!culprit) continue;
    if (culprit.deal.deal.policy === Policy.replicate) {
      if (group.some((d) => ON_CHAIN.includes(d.status) && !neverOpened.has(d.id))) continue;
      for (const d of group) {
        if (!ending.has(d.id) && OFF_CHAIN.includes(d.status))
          plan.deals.push({ id: d.id, status: "rejected", error: `replica group broken: ${culprit.why}`, brokenBy: culprit.deal.id });
      }
    }
    plan.reopen.push({ jobOfferId, dealId: culprit.deal.id });
  }
  return plan;
}
