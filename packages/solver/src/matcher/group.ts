// Under replicate(k) a job offer is matched to a replica group: k deals with k distinct providers,
// opened whole or not at all. Every deal of the group carries the same mediator set, and that set
// leaves out every party of the group (the job creator and all k providers): nobody rules on a
// dispute it is party to. Since who is left out depends on who is in the group, groups are built
// greedily in rank order: each offer joins the first group it keeps consistent, or starts one.
import type { JobOffer, ResourceOfferRecord } from "@lily/protocol";
import { strategyOf } from "./locks.ts";

export type GroupPick = { group: ResourceOfferRecord[]; why?: undefined } | { group?: undefined; why: string };

/**
 * An offer as group building reads it: its provider and the job's mediators it also lists, both
 * lowercased (without repeats), worked out once per offer. A deal's mediator set
 * (`dealMediators`) is that list less the group's parties; comparing those lists as lowercase
 * text gives the answer comparing the sets `dealMediators` builds would (the same addresses,
 * checksummed and sorted), without building them: that was checksumming, a regex test and a sort
 * per member for every group an offer was tried in, the most of a replicated job's time.
 */
interface Member {
  offer: ResourceOfferRecord;
  provider: string;
  common: readonly string[];
}

function memberOf(jobMediators: ReadonlySet<string>, offer: ResourceOfferRecord, provider: string): Member {
  // `dealMediators`: no set when either offer lists no mediator (the loop finds none then).
  const common = new Set<string>();
  for (const m of offer.offer.mediators) if (jobMediators.has(m.toLowerCase())) common.add(m.toLowerCase());
  return { offer, provider, common: [...common] };
}

/** Whether these members can form (part of) one group for `job`: one mediator set, not empty when the policy needs one. */
function sharesMediators(job: JobOffer, members: readonly Member[]): boolean {
  const parties = new Set([job.jobCreator.toLowerCase(), ...members.map((m) => m.provider)]);
  // One set: the same lists once the parties are left out (sorted, so the order they were listed in does not count).
  const setOf = (m: Member) =>
    m.common
      .filter((a) => !parties.has(a))
      .sort()
      .join();
  const first = setOf(members[0]!);
  for (let i = 1; i < members.length; i++) if (setOf(members[i]!) !== first) return false;
  // Dropping more parties only shrinks the set: an empty set stays empty as the group grows.
  return first !== "" || !(strategyOf(job.policy)?.needsMediators ?? false);
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
  const groups: Member[][] = [];
  const providers = new Set<string>();
  const jobMediators = new Set(job.mediators.map((m) => m.toLowerCase()));
  for (const offer of ranked) {
    const provider = offer.offer.provider.toLowerCase();
    if (providers.has(provider)) continue;
    providers.add(provider);
    const member = memberOf(jobMediators, offer, provider);
    const joined = groups.find((g) => sharesMediators(job, [...g, member]));
    if (joined) joined.push(member);
    else if (sharesMediators(job, [member])) groups.push([member]);
    const full = groups.find((g) => g.length === k);
    if (full) return { group: full.map((m) => m.offer) };
  }
  const policy = strategyOf(job.policy)?.name ?? `policy ${job.policy}`;
  if (providers.size < k) return { why: `${policy}: needs ${k} distinct providers, ${providers.size} fit` };
  const most = Math.max(0, ...groups.map((g) => g.length));
  return { why: `${policy}: needs ${k} distinct providers with the same mediators, ${providers.size} fit but at most ${most} share a mediator set` };
}
