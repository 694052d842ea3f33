import { isHex, padHex, stringToHex, type Hex } from "viem";
import { LilyError, type DealMessage } from "@lily/protocol";
import { lilyDealsAbi } from "../generated/artifacts.ts";
import { requireAccount, type LilyClient } from "../client.ts";
import { confirm, written, type WriteResult } from "../confirm.ts";
import { dealId } from "../deal.ts";
import { withLilyErrors } from "../errors.ts";
import { writeContract } from "../send.ts";

export interface ChallengeParameters {
  deal: DealMessage;
  /**
   * Why, recorded in the DealChallenged event: a 32-byte hex value (e.g. the digest of a
   * challenge record) or a short UTF-8 text of at most 32 bytes. Defaults to zero.
   */
  reason?: Hex | string;
}

export interface ChallengeReturnType extends WriteResult {
  dealId: Hex;
  /** The reason as recorded on chain (32 bytes). */
  reason: Hex;
}

/**
 * Challenge a committed `optimistic` result, as the deal's job creator, before the window
 * closes. The deal goes to a mediator drawn from the next block's hash; if the provider turns
 * out right, the job creator's reserved mediation fee pays the mediator.
 */
export async function challenge(client: LilyClient, { deal, reason }: ChallengeParameters): Promise<ChallengeReturnType> {
  const { addresses } = requireAccount(client);
  const word = reasonWord(reason);
  return withLilyErrors(async () => {
    const hash = await writeContract(client, { address: addresses.deals, abi: lilyDealsAbi, functionName: "challenge", args: [deal, word] });
    return { ...written(await confirm(client, hash)), dealId: dealId(addresses, deal), reason: word };
  });
}

/** A challenge reason as the bytes32 the contract records. */
export function reasonWord(reason: Hex | string | undefined): Hex {
  if (reason === undefined) return padHex("0x", { size: 32 });
  if (isHex(reason) && reason.length === 66) return reason;
  const bytes = new TextEncoder().encode(reason);
  if (bytes.length > 32) {
    throw new LilyError({
      code: "INVALID_INPUT",
      field: "reason",
      message: `a challenge reason is at most 32 bytes (or a 32-byte hex digest); this one is ${bytes.length} bytes`,
      hint: "shorten it, or record the full reason elsewhere and pass its digest",
    });
  }
  return stringToHex(reason, { size: 32 });
}
