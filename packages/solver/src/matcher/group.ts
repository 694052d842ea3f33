// Under replicate(k) a job offer is matched to a replica group: k deals with k distinct providers,
// opened whole or not at all. Every deal of the group carries the same mediator set, and that set
// leaves out every party of the group (the job creator and all k providers): nobody rules on a
// dispute it is party to. Since who is left out depends on who is in the group, groups are built
// greedily in rank order: each offer joins the first group it keeps consistent, or starts one.
import type { Address } from "viem";
import { dealMediators, type JobOffer, type ResourceOfferRecord } from "@lily/protocol";
import { strategyOf } from "./locks.ts";

export type GroupPick = { group: ResourceOfferRecord[]; why?: undefined } | { group?: undefined; why: string };

/** Whether these offers can form (part of) one group for `job`: one mediator set, not empty when the policy needs one. */
export function sharesMediators(job: JobOffer, members: readonly ResourceOfferRecord[]): boolean {
  const parties: Address[] = [job.jobCreator, ...members.map((m) => m.offer.provider)];
  const sets = members.map((m) => dealMediators(job.mediators, m.offer.mediators, parties));
  // One set: the same sorted lists (what `mediatorSetHash` would tell apart, without hashing each).
  const first = sets[0]!.join();
  for (let i = 1; i < sets.length; i++) if (sets[i]!.join() !== first) return false;
  // Dropping more parties only shrinks the set: an empty set stays empty as the group grows.
  return sets[0]!.length > 0 || !(strategyOf(job.policy)?.needsMediators ?? false);
}

/**
 * The first k offers in rank order with distinct providers that form one group (the best one when
 * k = 1); or why there are none. `ranked` is read only as far as it takes, so the indexed matcher
 * can hand in a lazy ranking (offerIndex.ts) and stop evaluating offers once a group forms.
 */
export function pickGroup(job: JobOffer, ranked: Iterable<ResourceOfferRecord>, k: number): GroupPick {
  if (k === 1) {
    for (const best of ranked) return { group: [best] };
    return { why: "no provider fits" };
  }
  const groups: ResourceOfferRecord[][] = [];
  const providers = new Set<string>();
  for (const offer of ranked) {
    const provider = offer.offer.provider.toLowerCase();
    if (providers.has(provider)) continue;
    providers.add(provider);
    const joined = groups.find((g) => sharesMediators(job, [...g, offer]));
    if (joined) joined.push(offer);
    else if (sharesMediators(job, [offer])) groups.push([offer]);
    const full = groups.find((g) => g.length === k);
    if (full) return { group: full };
  }
  const policy = strategyOf(job.policy)?.name ?? `policy ${job.policy}`;
  if (providers.size < k) return { why: `${policy}: needs ${k} distinct providers, ${providers.size} fit` };
  const most = Math.max(0, ...groups.map((g) => g.length));
  return { why: `${policy}: needs ${k} distinct providers with the same mediators, ${providers.size} fit but at most ${most} share a mediator set` };
}
