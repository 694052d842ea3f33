import { parseEventLogs, type Hex } from "viem";
import type { DealMessage } from "@lily/protocol";
import { lilyDealsAbi } from "../generated/artifacts.ts";
import { requireAccount, type LilyClient } from "../client.ts";
import { confirm, written, type WriteResult } from "../confirm.ts";
import { dealId } from "../deal.ts";
import { withLilyErrors } from "../errors.ts";
import { writeContract } from "../send.ts";

export interface FinalizeParameters {
  deal: DealMessage;
}

export interface FinalizeReturnType extends WriteResult {
  dealId: Hex;
  /** What became of the deal: settled (provider paid) or challenged (an audit sent it to a mediator). */
  outcome: "settled" | "challenged";
  /** Under audit(p): the draw r in [0, 10^6) and the block whose hash drew it (audited when r < p). */
  audit?: { draw: bigint; drawBlock: bigint; audited: boolean };
}

/**
 * Move a committed deal on. `optimistic`: once the challenge window has closed unchallenged,
 * settle it. `audit`: once block `commitBlock + AUDIT_DELAY` is mined, draw; audited deals go
 * to a mediator, the rest settle. Any account may send it.
 */
export async function finalize(client: LilyClient, { deal }: FinalizeParameters): Promise<FinalizeReturnType> {
  const { addresses } = requireAccount(client);
  return withLilyErrors(async () => {
    const hash = await writeContract(client, { address: addresses.deals, abi: lilyDealsAbi, functionName: "finalize", args: [deal] });
    const receipt = await confirm(client, hash);
    const [drawn] = parseEventLogs({ abi: lilyDealsAbi, logs: receipt.logs, eventName: "AuditDrawn" });
    const audit = drawn && { draw: drawn.args.draw, drawBlock: drawn.args.drawBlock, audited: drawn.args.audited };
    return { ...written(receipt), dealId: dealId(addresses, deal), outcome: audit?.audited ? "challenged" : "settled", audit };
  });
}
