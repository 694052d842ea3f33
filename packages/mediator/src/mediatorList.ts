// The mediator list of a deal: the sorted set both parties accepted, of which the signed deal
// carries only the hash (`deal.mediators`). Any list that hashes to it is that set, so the
// sources below are tried in turn and each answer is checked against the hash:
//   1. the dispute transaction's calldata (a challenge supplies the list);
//   2. the job offer and the provider's resource offer, both signature-checked: their common set;
//   3. the subsets of the job offer's list (the common set is one of them), when it is short.
import { isAddressEqual, type Address } from "viem";
import type { Client, SolverRoutes } from "@lily/api";
import {
  LilyError,
  NO_MEDIATORS,
  commonMediators,
  hashRecord,
  mediatorSetHash,
  verifyRecord,
  type DealMessage,
  type Domain,
  type JobOffer,
} from "@lily/protocol";

/** Subset search is 2^n hashes: fine up to 2^16. */
const MAX_SUBSET_SEARCH = 16;

export type MediatorListSource = "calldata" | "offers" | "job-offer-subset";

export async function resolveMediatorList(
  deps: { solver: Client<SolverRoutes>; domain: Domain },
  deal: DealMessage,
  job: JobOffer,
  fromCalldata: Address[][],
): Promise<{ list: Address[]; source: MediatorListSource }> {
  // REJECT: a deal whose parties share no mediator can never be mediated
  if (deal.mediators === NO_MEDIATORS) {
    throw new LilyError({ code: "CONFLICT", field: "deal.mediators", message: "the parties accepted no mediator" });
  }
  const listed = fromCalldata.find((l) => mediatorSetHash(l) === deal.mediators);
  if (listed) return { list: listed, source: "calldata" };

  const { offers } = await deps.solver.listResourceOffers({});
  const record = offers.find((o) => o.id === deal.resourceOffer);
  // REJECT: a resource offer counts only if it is the deal's and its provider signed it
  if (record && hashRecord(deps.domain, "ResourceOffer", record.offer) === deal.resourceOffer && isAddressEqual(record.offer.provider, deal.provider)) {
    await verifyRecord(deps.domain, "ResourceOffer", record.offer, record.signature, { field: "resourceOffer.signature" });
    const list = commonMediators(job.mediators, record.offer.mediators);
    if (mediatorSetHash(list) === deal.mediators) return { list, source: "offers" };
  }

  const candidates = commonMediators(job.mediators, job.mediators); // the job's list, deduplicated and sorted
  if (candidates.length <= MAX_SUBSET_SEARCH) {
    for (let mask = 1; mask < 1 << candidates.length; mask++) {
      const subset = candidates.filter((_, i) => mask & (1 << i));
      if (mediatorSetHash(subset) === deal.mediators) return { list: subset, source: "job-offer-subset" };
    }
  }
  throw new LilyError({
    code: "NOT_FOUND",
    field: "deal.mediators",
    message: `no mediator list hashing to ${deal.mediators} could be found (resource offer ${deal.resourceOffer} is no longer listed by the solver)`,
  });
}
