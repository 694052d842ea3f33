// Whether the solver takes a provider's signed model offer, given the one it holds for the same
// (provider, model): a pure decision, so the rules read in one place and test without a server.
// The solver keeps only the newest offer per pair, and "newest" is the provider's nonce: the
// solver can neither forge an offer nor bring an older one back.
import type { Hex } from "viem";
import { LilyError, type ModelOffer } from "@lily/protocol";

/** What the solver holds for the offer's (provider, model). */
export interface HeldModelOffer {
  id: Hex;
  nonce: bigint;
}

export type ModelOfferAdmission =
  /** The very offer is already held: posting it again changes nothing. */
  | { kind: "known" }
  /** The first offer for this (provider, model). */
  | { kind: "new" }
  /** A newer offer: it replaces `previous`. */
  | { kind: "replaces"; previous: Hex };

const invalid = (field: string, message: string, hint?: string) =>
  new LilyError({ code: "INVALID_INPUT", field, message: `${field}: ${message}`, ...(hint && { hint }) });

/** `now` in unix seconds; throws INVALID_INPUT or CONFLICT naming the field when the offer is refused. */
export function admitModelOffer(
  offer: ModelOffer,
  id: Hex,
  held: HeldModelOffer | undefined,
  caps: { maxModelOfferTtlSeconds: number },
  now: number,
): ModelOfferAdmission {
  // REJECT: an offer that has already expired can serve no lease
  if (offer.expiresAt <= BigInt(now)) throw invalid("offer.expiresAt", `${offer.expiresAt} is in the past`);
  // REJECT: an offer may not stay listed longer than the solver keeps offers
  if (offer.expiresAt > BigInt(now + caps.maxModelOfferTtlSeconds)) {
    throw invalid(
      "offer.expiresAt",
      `${offer.expiresAt} is more than ${caps.maxModelOfferTtlSeconds}s away`,
      `sign an offer expiring within ${caps.maxModelOfferTtlSeconds}s and post it again before then`,
    );
  }
  if (!held) return { kind: "new" };
  if (held.id.toLowerCase() === id.toLowerCase()) return { kind: "known" };
  // REJECT: only a newer nonce replaces an offer: an older signed offer cannot be replayed over the newest
  if (offer.nonce <= held.nonce) {
    throw new LilyError({
      code: "CONFLICT",
      field: "offer.nonce",
      message: `offer.nonce: ${offer.nonce} is not newer than nonce ${held.nonce} of the offer held for ${offer.provider} and ${offer.model}`,
      hint: "sign the new offer with a larger nonce",
      details: { held: held.id, heldNonce: held.nonce.toString() },
    });
  }
  return { kind: "replaces", previous: held.id };
}
