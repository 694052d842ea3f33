// The LilyDeals events that ask for a mediator, and what kind of dispute each one opens. The only
// place that names them: if the contract renames one, this table changes and nothing else.
import { toEventSelector, type Abi, type AbiEvent, type Hex } from "viem";
import type { DisputeKind } from "./dispute.ts";

export interface DisputeEventDef {
  name: string;
  kind: DisputeKind;
  /** The event argument that identifies the dispute: a deal id, or a replica group's job offer. */
  keyArg: string;
  /** For events emitted on every draw or tally, whether this one sends the deal(s) to a mediator. */
  asksMediator?: (args: Record<string, unknown>) => boolean;
}

export const disputeEventDefs: readonly DisputeEventDef[] = [
  // challenge(deal, reason): the job creator disputes an optimistic result
  { name: "DealChallenged", kind: "challenge", keyArg: "dealId" },
  // finalize(deal): the audit draw; `audited` when it hit
  { name: "AuditDrawn", kind: "audit", keyArg: "dealId", asksMediator: (a) => a.audited === true },
  // settleReplicas(deals): the tally; without a majority the group goes to one mediator
  { name: "ReplicasTallied", kind: "replicas", keyArg: "jobOffer", asksMediator: (a) => a.majority === false },
];

/** The event a ruling emits (once per deal ruled on), to recognise a ruling already on chain. */
export const RULED_EVENT = "Ruled";

export interface DisputeEvent extends DisputeEventDef {
  item: AbiEvent;
  selector: Hex;
}

/** The dispute events this ABI declares, with their topic selectors; and the names it lacks. */
export function disputeEventsIn(abi: Abi): { events: DisputeEvent[]; missing: string[] } {
  const events: DisputeEvent[] = [];
  const missing: string[] = [];
  for (const def of disputeEventDefs) {
    const item = abi.find((x): x is AbiEvent => x.type === "event" && x.name === def.name);
    if (item) events.push({ ...def, item, selector: toEventSelector(item) });
    else missing.push(def.name);
  }
  return { events, missing };
}
