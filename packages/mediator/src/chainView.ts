// Reading what the chain says about a dispute into a `ChainView` for `nextStep`, and the two
// deployment constants the turns are timed by (immutable, so read once). Reads only.
import { isAddressEqual, type Address, type Hex } from "viem";
import { dealId, dealRecord, getDealLogs, groupMediatorOf, lilyDealsAbi, mediatorOf, type LilyClient } from "@lily/chain";
import type { DealMessage, Hex32 } from "@lily/protocol";
import { RULED_EVENT } from "./disputeEvents.ts";
import { revertedWith } from "./reverted.ts";
import type { Dispute } from "./dispute.ts";
import type { ChainView, DealOnChain } from "./nextStep.ts";

const ZERO_DIGEST = `0x${"0".repeat(64)}`;

export interface MediationTimes {
  mediatorTurnSeconds: number;
  mediationTimeoutSeconds: number;
}

/** The deployment's MEDIATOR_TURN and MEDIATION_TIMEOUT. */
export async function readMediationTimes(chain: LilyClient): Promise<MediationTimes> {
  const read = (functionName: "MEDIATOR_TURN" | "MEDIATION_TIMEOUT") =>
    chain.publicClient.readContract({ address: chain.addresses.deals, abi: lilyDealsAbi, functionName });
  const [turn, timeout] = await Promise.all([read("MEDIATOR_TURN"), read("MEDIATION_TIMEOUT")]);
  return { mediatorTurnSeconds: Number(turn), mediationTimeoutSeconds: Number(timeout) };
}

/** The chain's view of a dispute whose deals are known. */
export async function observe(chain: LilyClient, d: Dispute & { deals: DealMessage[] }, me: Address): Promise<ChainView> {
  const latest = await chain.publicClient.getBlock({ blockTag: "latest" });
  const deals: DealOnChain[] = await Promise.all(
    d.deals.map(async (deal) => {
      const r = await dealRecord(chain, { dealId: dealId(chain.addresses, deal) });
      return {
        state: r.state,
        ...(r.resultDigest !== ZERO_DIGEST && { digest: r.resultDigest as Hex32 }),
        drawBlock: Number(r.drawBlock),
        challengedAt: Number(r.challengedAt),
        seed: r.seed,
      };
    }),
  );
  const view: ChainView = { block: Number(latest.number), blockHash: latest.hash, time: Number(latest.timestamp), deals };
  if (!deals.some((x) => x.state === "challenged")) {
    const ruled = await rulingOnChain(chain, d.deals);
    return ruled ? { ...view, ruled } : view;
  }
  // Whose turn it is matters only to a listed mediator (the contract refuses anyone else).
  if (d.mediators?.some((m) => isAddressEqual(m, me))) return { ...view, turn: await turnOf(chain, d) };
  return view;
}

async function turnOf(chain: LilyClient, d: Dispute & { deals: DealMessage[] }): Promise<Address | "not-drawn-yet"> {
  const mediators = d.mediators!;
  try {
    return d.kind === "replicas" ? await groupMediatorOf(chain, { deals: d.deals, mediators }) : await mediatorOf(chain, { deal: d.deals[0]!, mediators });
  } catch (e) {
    if (revertedWith(e, "DealsMediatorNotDrawnYet")) return "not-drawn-yet";
    throw e;
  }
}

/** A ruling already on chain for one of the deals (ours, sent just before a crash), if any. */
async function rulingOnChain(chain: LilyClient, deals: DealMessage[]): Promise<{ txHash: Hex; mediator: Address } | undefined> {
  for (const deal of deals) {
    const events = await getDealLogs(chain, { dealId: dealId(chain.addresses, deal) });
    const ruled = events.find((e) => e.name === RULED_EVENT);
    if (ruled) return { txHash: ruled.txHash, mediator: (ruled.args as { mediator: Address }).mediator };
  }
  return undefined;
}
