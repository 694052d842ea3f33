// Telling a refused transaction from one that merely did not go through. A refusal is the
// contract's own answer (a decoded custom error): sending again changes nothing. A node that did
// not answer, a nonce race the per-account queue could not absorb, or a revert without a reason
// is not a refusal: the next pass tries again, and the deal is never declined for it.
import { isLilyError } from "@lily/protocol";

/** The contract's custom error that refused the transaction, or undefined when it should be retried. */
export function refusal(e: unknown): string | undefined {
  if (!isLilyError(e)) return undefined;
  const name = e.details.error;
  return typeof name === "string" ? name : undefined;
}
