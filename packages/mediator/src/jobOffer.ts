// The job offer behind a deal, fetched from a solver and believed only after checking: it must
// hash to the deal's `jobOffer` and be signed by the deal's job creator. It names the module and
// inputs to re-run and the mediators the job creator accepted.
import { isAddressEqual } from "viem";
import type { Client, SolverRoutes } from "@lily/api";
import { LilyError, hashRecord, verifyRecord, type DealMessage, type Domain, type JobOffer } from "@lily/protocol";

export async function fetchJobOffer(solver: Client<SolverRoutes>, domain: Domain, deal: DealMessage): Promise<JobOffer> {
  const record = await solver.getJobOffer({ params: { id: deal.jobOffer } });
  // REJECT: the offer must be the one the deal was signed over
  if (hashRecord(domain, "JobOffer", record.offer) !== deal.jobOffer) {
    throw new LilyError({ code: "CONFLICT", field: "jobOffer", message: `the solver's job offer does not hash to ${deal.jobOffer}` });
  }
  // REJECT: and signed by the deal's job creator
  await verifyRecord(domain, "JobOffer", record.offer, record.signature, { field: "jobOffer.signature" });
  if (!isAddressEqual(record.offer.jobCreator, deal.jobCreator)) {
    throw new LilyError({ code: "CONFLICT", field: "jobOffer.jobCreator", message: "the job offer is not the deal's job creator's" });
  }
  return record.offer;
}
