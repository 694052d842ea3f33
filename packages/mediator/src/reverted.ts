// Whether an error is the contract refusing with a given custom error. @lily/chain decodes every
// custom error into a LilyError (CHAIN_REVERT, or a closer code such as CONFLICT) naming it in
// `details.error`: matched by that name, never by message text.
import { isLilyError } from "@lily/protocol";

export function revertedWith(e: unknown, error: string): boolean {
  return isLilyError(e) && e.details.error === error;
}
