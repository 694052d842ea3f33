// LilyTrustDeals' custom errors as readable sentences (merged into errors.ts's decoder). Terms that
// can never open are INVALID_INPUT naming the item's field; a batch or proof that does not fit the
// chain is INVALID_INPUT naming the argument. The skip reasons (TrustNonceUsed and the like) only
// ever appear in `Skipped` events, decoded by name in trustBatch.ts.
import type { Args, Sentence } from "../errors.ts";

export const trustSentences: Record<string, (a: Args) => Sentence> = {
  TrustEmptyBatch: () => ({ code: "INVALID_INPUT", field: "deals", message: "a trust batch needs at least one deal" }),
  TrustBatchLengthMismatch: (a) => ({
    code: "INVALID_INPUT",
    field: "signatures",
    message: `${a.given} signatures were given for ${a.items} deals (give one per deal, or none for the side the sender signs for)`,
  }),
  TrustInvalidRoyalty: (a) => ({
    code: "INVALID_INPUT",
    field: `deals[${a.index}].royaltyBps`,
    message:
      a.royaltyBps > 10_000
        ? `deal ${a.index}: a royalty of ${a.royaltyBps} basis points exceeds the whole price (at most 10000)`
        : `deal ${a.index}: a royalty of ${a.royaltyBps} basis points needs a module creator to pay it to, not the zero address`,
  }),
  TrustDeadlineNotAfterOpenBy: (a) => ({
    code: "INVALID_INPUT",
    field: `deals[${a.index}].deadline`,
    message: `deal ${a.index}: its deadline ${a.deadline} does not come after its openBy ${a.openBy}`,
  }),
  TrustUnknownBatch: (a) => ({ code: "INVALID_INPUT", field: "batchNo", message: `trust batch ${a.batchNo} opened no deal on this chain` }),
  TrustInvalidProof: (a) => ({
    code: "INVALID_INPUT",
    field: "deals",
    message: `these terms and proof are not deals of trust batch ${a.batchNo} with the sender (or the given provider) as provider`,
    hint: "settle only deals as they were opened, with the batch's leaves from its DealsOpened event",
  }),
};
