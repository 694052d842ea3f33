// Which escrow backs a deal, as the matcher's balance and hold maps key it. A routed trust deal
// (a trust deal on a network whose solver names LilyTrustDeals) locks from the parties'
// LilyTrustDeals escrow, every other deal from their LilyDeals escrow: two separate balances per
// party, so a party's key in those maps is its address for LilyDeals and its address behind
// `TRUST_PREFIX` for LilyTrustDeals. A network without LilyTrustDeals only ever sees addresses:
// its maps, and the matcher's work, are as they were.
import type { Address } from "viem";
import { isTrustDeal } from "@lily/protocol";

/** Before a party's address in its key for its LilyTrustDeals escrow. */
const TRUST_PREFIX = "trust:";

/** A party's key in the balance and hold maps: its address (LilyDeals' escrow) or `trust:` and its address (LilyTrustDeals'). */
export type BackingKey = Address | `${typeof TRUST_PREFIX}${Address}`;

/** Whether a deal (or job) of this policy is backed by LilyTrustDeals' escrow where `trustEscrow` says trust deals are routed there. */
export function trustBacked(trustEscrow: boolean | undefined, deal: { policy: number }): boolean {
  return trustEscrow === true && isTrustDeal(deal);
}

/** `party`'s key in the balance and hold maps for the escrow `trust` names. */
export function backingKey(party: Address, trust: boolean): BackingKey {
  return trust ? `${TRUST_PREFIX}${party}` : party;
}

/** The party and escrow a key names. */
export function keyParty(key: BackingKey): { account: Address; trust: boolean } {
  return key.startsWith(TRUST_PREFIX) ? { account: key.slice(TRUST_PREFIX.length) as Address, trust: true } : { account: key as Address, trust: false };
}
