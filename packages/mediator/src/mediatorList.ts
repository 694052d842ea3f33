// The mediator list of a dispute: the sorted set both parties accepted, of which the signed deal
// carries only the hash (`deal.mediators`). Any list that hashes to it is that set, so the
// sources below are tried in turn and each answer is checked against the hash:
//   1. the dispute transaction's calldata (a challenge may supply the list);
//   2. the job offer and the provider's resource offer, both signature-checked: the mediators both
//      list, less the dispute's parties (as protocol's deriveDeal makes it), or with them (a deal
//      signed outside a solver may list a party; the contracts never draw one);
//   3. the subsets of the job offer's list (the set is one of them), when it is short.
import { isAddressEqual, type Address } from "viem";
import type { Client, SolverRoutes } from "@lily/api";
import {
  LilyError,
  NO_MEDIATORS,
  commonMediators,
  dealMediators,
  hashRecord,
  isLilyError,
  mediatorSetHash,
  sortedAddresses,
  verifyRecord,
  type DealMessage,
  type Domain,
  type JobOffer,
  type ResourceOffer,
} from "@lily/protocol";

/** Subset search is 2^n hashes: fine up to 2^16. */
const MAX_SUBSET_SEARCH = 16;

export type MediatorListSource = "calldata" | "offers" | "job-offer-subset";

/** @param deals the disputed deal, or the whole replica group (they share one mediator set) */
export async function resolveMediatorList(
  deps: { solver: Client<SolverRoutes>; domain: Domain },
  deals: readonly DealMessage[],
  job: JobOffer,
  fromCalldata: Address[][],
): Promise<{ list: Address[]; source: MediatorListSource }> {
  const deal = deals[0]!;
  // REJECT: a deal whose parties share no mediator can never be mediated
  if (deal.mediators === NO_MEDIATORS) {
    throw new LilyError({ code: "CONFLICT", field: "deal.mediators", message: "the parties accepted no mediator" });
  }
  const listed = fromCalldata.find((l) => mediatorSetHash(l) === deal.mediators);
  if (listed) return { list: listed, source: "calldata" };

  const offer = await resourceOfferOf(deps, deal);
  if (offer) {
    const parties = [deal.jobCreator, ...deals.map((d) => d.provider)];
    for (const list of [dealMediators(job.mediators, offer.mediators, parties), commonMediators(job.mediators, offer.mediators)]) {
      if (mediatorSetHash(list) === deal.mediators) return { list, source: "offers" };
    }
  }

  const candidates = sortedAddresses(job.mediators);
  if (candidates.length <= MAX_SUBSET_SEARCH) {
    for (let mask = 1; mask < 1 << candidates.length; mask++) {
      const subset = candidates.filter((_, i) => mask & (1 << i));
      if (mediatorSetHash(subset) === deal.mediators) return { list: subset, source: "job-offer-subset" };
    }
  }
  throw new LilyError({
    code: "NOT_FOUND",
    field: "deal.mediators",
    message: `no mediator list hashing to ${deal.mediators} could be found (resource offer ${deal.resourceOffer} is not known to the solver)`,
  });
}

/** The deal's resource offer from the solver, if it has it and it checks out. */
async function resourceOfferOf(deps: { solver: Client<SolverRoutes>; domain: Domain }, deal: DealMessage): Promise<ResourceOffer | undefined> {
  let record: Awaited<ReturnType<typeof deps.solver.getResourceOffer>>;
  try {
    record = await deps.solver.getResourceOffer({ params: { id: deal.resourceOffer } });
  } catch (e) {
    if (isLilyError(e, "NOT_FOUND")) return undefined;
    throw e;
  }
  // REJECT: a resource offer counts only if it is the deal's and its provider signed it
  if (hashRecord(deps.domain, "ResourceOffer", record.offer) !== deal.resourceOffer || !isAddressEqual(record.offer.provider, deal.provider)) return undefined;
  await verifyRecord(deps.domain, "ResourceOffer", record.offer, record.signature, { field: "resourceOffer.signature" });
  return record.offer;
}
