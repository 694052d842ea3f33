// What the chain says about the deals the solver proposed, as pure functions: a deal event moves
// the solver's record (the chain outranks any report), and chain time ends what can no longer
// happen. Chain time is the timestamp of the last block scanned, and every later block is at
// least as late, so "not opened by its openBy" and "no result by its deadline" are exact: no
// block can still open the deal or commit its result (the contract opens while
// timestamp <= openBy and takes a result while timestamp <= deadline).
import type { Hex } from "viem";
import { Policy, type DealRecord, type DealStatus } from "@lily/protocol";
import type { Ending } from "./endings.ts";
import type { FollowedDeal } from "./orderBook.ts";
import type { ChainFact, ChainSighting } from "./chain/dealEvents.ts";

export interface FactUpdate {
  onChain: ChainFact;
  /** The status the deal takes, when it changes without ending anything else. */
  status?: DealStatus;
  openTx?: Hex;
  /** When the fact ends a deal that held its job offer: end it as any other ending. */
  ending?: Ending;
}

/** Later facts outrank earlier ones; the two endings exclude each other. */
const rank: Record<ChainFact, number> = { opened: 1, committed: 2, "timed-out": 2 };
const ENDED: readonly DealStatus[] = ["rejected", "timed-out"];

export const NO_RESULT = "deadline passed with no result committed";

function timedOut(deal: DealRecord): Ending {
  const exclude = `timed out on deal ${deal.id}`;
  return { deal, status: "timed-out", error: NO_RESULT, why: `provider ${deal.deal.provider} ${exclude}`, exclude };
}

/** What one event the chain emitted does to the solver's record of its deal; undefined when nothing new. */
export function applyFact({ deal, onChain }: FollowedDeal, { fact, txHash }: Pick<ChainSighting, "fact" | "txHash">): FactUpdate | undefined {
  if (onChain && rank[onChain] >= rank[fact]) return undefined;
  if (fact === "opened") {
    const openTx = deal.openTx ?? txHash;
    // A deal dropped before it could open (a cancel) that opened anyway is live again: the chain decides.
    const status = ["proposed", "signed", "rejected"].includes(deal.status) ? "opened" : undefined;
    return { onChain: fact, openTx, ...(status && { status }) };
  }
  if (fact === "committed") return { onChain: fact, ...(deal.status !== "committed" && { status: "committed" }) };
  if (deal.status === "timed-out") return { onChain: fact };
  if (deal.status === "rejected") return { onChain: fact, status: "timed-out" };
  return { onChain: fact, ending: timedOut(deal) };
}

/**
 * The deals chain time has ended, at `chainNow` (unix seconds): those never seen opened once
 * their openBy has passed, and those opened with no result once their deadline has.
 */
/** How long a job creator has to sign after the last provider of its deal did before it is to blame. */
export const JOB_CREATOR_TURN_SECONDS = 1n;

export function timeEndings(deals: readonly FollowedDeal[], chainNow: bigint): Ending[] {
  const endings: Ending[] = [];
  // Each job offer's proposed deals, gathered once: a restart may find thousands of deals past
  // their openBy, and searching all of them for each one's group was quadratic (minutes).
  const proposedOf = new Map<Hex, DealRecord[]>();
  for (const { deal } of deals) {
    if (deal.status !== "proposed") continue;
    const group = proposedOf.get(deal.jobOfferId);
    if (group) group.push(deal);
    else proposedOf.set(deal.jobOfferId, [deal]);
  }
  for (const { deal, onChain } of deals) {
    const { id, deal: terms } = deal;
    if (onChain === "opened" && deal.status !== "timed-out" && terms.deadline < chainNow) endings.push(timedOut(deal));
    if (onChain !== undefined || ENDED.includes(deal.status) || terms.openBy >= chainNow) continue;
    if (deal.status === "proposed") {
      // Who did not sign is known. The job creator signs last, once every provider of the job
      // (its whole group) has: it is to blame only then, and abandons its job offer; a provider
      // that did not sign loses the job and its offer.
      // A proposed deal's last update is its provider's signature; a job creator left less than
      // its turn to sign after the last of them is not to blame (found by the chaos test: a
      // provider restarting signs late, and an honest job creator lost its job offer).
      const provider = !deal.providerSignature;
      const group = proposedOf.get(deal.jobOfferId)!;
      const providersSigned = group.every((d) => d.providerSignature);
      const lastProviderSignature = group.reduce((latest, d) => Math.max(latest, d.updatedAt), 0);
      const hadItsTurn = BigInt(Math.ceil(lastProviderSignature / 1000)) + JOB_CREATOR_TURN_SECONDS <= terms.openBy;
      const jobCreator = !deal.jobCreatorSignature && providersSigned && hadItsTurn;
      const late = !deal.jobCreatorSignature && providersSigned && !hadItsTurn;
      const missing = [jobCreator && "job creator", provider && "provider"].filter(Boolean).join(" and the ");
      const error = missing
        ? `not signed by the ${missing} before its openBy`
        : late
          ? "not signed before its openBy: the provider signed too late for the job creator to"
          : "not signed before its openBy: another replica of its group was not";
      const exclude = `did not sign deal ${id} before its openBy`;
      endings.push({
        deal,
        status: "rejected",
        error,
        why: `deal ${id} ${error}`,
        ...(jobCreator && { abandon: true as const }),
        ...(provider && { exclude, deactivate: true as const }),
      });
      continue;
    }
    // Both signed and nobody opened it. The provider opens a single deal (it holds both signatures
    // and follows its deals until openBy), so it is passed over for this job; a replica group may
    // be opened by any of its providers, so none of them is singled out.
    const error = "not opened by its openBy";
    const exclude = terms.policy === Policy.replicate ? undefined : `did not open deal ${id} by its openBy`;
    endings.push({ deal, status: "rejected", error, why: `deal ${id} ${error}`, ...(exclude && { exclude }) });
  }
  return endings;
}
