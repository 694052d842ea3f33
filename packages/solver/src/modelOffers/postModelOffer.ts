// Take a provider's signed model offer: its signature checked against the LilyLeases domain (the
// offer names its provider, who must have signed it), then admitted by the pure rules and stored
// in one transaction, so two posts at once cannot both replace the same offer.
import { hashRecord, verifyRecord, type Domain, type SignedModelOffer } from "@lily/protocol";
import { transaction, type Database } from "@lily/node-kit";
import type { ModelOfferRecord } from "@lily/api";
import { admitModelOffer } from "./admitModelOffer.ts";
import type { ModelOfferBook } from "./modelOfferBook.ts";

export interface ModelOfferRules {
  /** {chainId, verifyingContract: the LilyLeases contract}. */
  domain: Domain;
  maxModelOfferTtlSeconds: number;
  maxModelOffersPerProvider: number;
}

/** `now` in milliseconds. Returns the stored record (the one already held when the very offer is posted again). */
export async function postModelOffer(
  deps: { db: Database; book: ModelOfferBook },
  rules: ModelOfferRules,
  { offer, signature }: SignedModelOffer,
  now: number,
): Promise<ModelOfferRecord> {
  // REJECT: a model offer must be signed by the provider it names, for this chain and LilyLeases
  await verifyRecord(rules.domain, "ModelOffer", offer, signature, { field: "signature" });
  const id = hashRecord(rules.domain, "ModelOffer", offer);
  const seconds = Math.floor(now / 1000);
  return transaction(deps.db, () => {
    const admission = admitModelOffer(offer, id, deps.book.held(offer.provider, offer.model), rules, seconds);
    if (admission.kind === "known") return deps.book.get(id)!;
    const rec: ModelOfferRecord = { id, offer, signature, postedAt: now };
    deps.book.put(rec, { maxPerProvider: rules.maxModelOffersPerProvider, now: seconds });
    return rec;
  });
}
