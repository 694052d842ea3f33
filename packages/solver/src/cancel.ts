// A job creator withdraws its job offer with a signed CancelJobOffer: the job offer is cancelled
// and never matched again, and its proposals not yet signed by both parties are dropped. A deal
// both signed is left to the chain: anyone holding both signatures may still open it until its
// openBy (the provider follows it until then), so dropping it would free capacity its provider
// knows it still holds. Likewise a proposal its provider alone signed keeps counting against
// that provider until its openBy (see book/usage.ts). Cancelling again changes nothing.
import { isAddressEqual, type Hex } from "viem";
import { LilyError, verifyRecord, type Domain, type SignedCancelJobOffer } from "@lily/protocol";
import type { OrderBook } from "./orderBook.ts";

export const CANCELLED = "cancelled by its job creator";

/** Returns the deals dropped, or undefined when the job offer had already ended. */
export async function cancelJobOffer(
  book: OrderBook,
  domain: Domain,
  id: Hex,
  { cancel, signature }: SignedCancelJobOffer,
): Promise<{ dropped: Hex[] } | undefined> {
  // REJECT: a cancel names the job offer it is posted to (one cancel cannot withdraw another offer)
  if (cancel.jobOffer !== id)
    throw new LilyError({ code: "INVALID_INPUT", field: "cancel.jobOffer", message: `cancel.jobOffer: ${cancel.jobOffer} is not job offer ${id}` });
  const job = book.getJobOffer(id);
  if (!job) throw new LilyError({ code: "NOT_FOUND", field: "id", message: `no job offer ${id}` });
  // REJECT: only the job offer's own job creator may withdraw it
  if (!isAddressEqual(cancel.jobCreator, job.offer.jobCreator)) {
    throw new LilyError({
      code: "INVALID_INPUT",
      field: "cancel.jobCreator",
      message: `cancel.jobCreator: ${cancel.jobCreator} is not the job creator of job offer ${id}`,
    });
  }
  // REJECT: the cancel must be signed by that job creator
  await verifyRecord(domain, "CancelJobOffer", cancel, signature, { signer: job.offer.jobCreator, field: "signature" });
  return book.atomically(() => {
    if (!book.endJobOffer(id, "cancelled")) return undefined;
    const dropped = book.unopenedDealsOf(id).filter((d) => d.status === "proposed");
    for (const d of dropped) book.updateDeal(d.id, { status: "rejected", error: CANCELLED });
    return { dropped: dropped.map((d) => d.id) };
  });
}
