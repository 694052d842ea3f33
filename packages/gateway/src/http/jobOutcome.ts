// What became of a job, from what the chain says about its deals: its status, what it cost the
// job creator and how its verification policy went (checked, challenged, upheld, slashed). Pure:
// the routes read the chain and the journal, and this turns those facts into the History's and
// the job page's words, so every case is testable without a network.
import { Policy, PPM, policyName, type Deal } from "@lily/protocol";
import type { DealStateName } from "@lily/chain";

/** One deal event as the chain gave it (see @lily/chain getDealEvents). */
export interface DealEventFact {
  name: string;
  args: Record<string, unknown>;
  txHash: string;
  blockNumber: bigint;
  /** The event's place in its block: orders events of one transaction (a challenge requests mediation first). */
  logIndex: number;
  gasUsed: bigint;
  /** How many deals the transaction carried, for a batch call (LilyTrustDeals); the gas is the whole transaction's. */
  batchSize?: number;
}

/** What the chain says about one of the job's deals. */
export interface DealFacts {
  dealId: string;
  deal: Pick<Deal, "price" | "collateral" | "mediationFee" | "policy" | "policyParam" | "jobCreator">;
  state: DealStateName;
  /** Unix seconds of the result's commit; 0 before. */
  committedAt: bigint;
  events: DealEventFact[];
}

export type Verdict =
  /** trust: nobody checks the result. */
  | "unchecked"
  /** The result is not committed yet. */
  | "pending"
  /** optimistic: committed, the window is open; the job creator may still challenge. */
  | "window-open"
  /** optimistic: the window closed without a challenge (settled or about to be). */
  | "unchallenged"
  /** audit: committed, the draw is not made yet. */
  | "awaiting-draw"
  /** audit: the draw passed this result over. */
  | "not-drawn"
  /** A mediator has the deal and has not ruled. */
  | "mediating"
  /** A mediator re-ran the job and found the provider right. */
  | "upheld"
  /** The provider was proven wrong (by a mediator or by the replicas' majority) and lost its collateral. */
  | "slashed"
  /** replicate: the replicas agreed and were paid. */
  | "agreed"
  /** The provider missed its deadline, or nobody ruled in time: the job creator was refunded. */
  | "timed-out";

export interface JobOutcome {
  /** The on-chain state of the job as a whole: the journal's stage before any deal opened, else the deals'. */
  status: string;
  verification: {
    policy: string;
    /** Whether anyone re-checked the result (a mediator re-ran it, or replicas compared it). */
    checked: boolean;
    challenged: boolean;
    verdict: Verdict;
    /** optimistic: when the challenge window closes (unix seconds), once the result is committed. */
    windowClosesAt: number | null;
    /** Whether the job creator may challenge now. */
    challengeable: boolean;
  };
  cost: {
    /** The deals' prices: what the job creator agreed to pay. */
    price: bigint;
    /** What the job creator has paid for good (price and any mediation fee it lost); null while money is still locked. */
    paid: bigint | null;
    /** What the job creator received beyond its refund: a slashed provider's collateral less the mediator's fee. */
    received: bigint;
  };
}

const FINAL: ReadonlySet<DealStateName> = new Set(["settled", "slashed", "timedOut"]);

/** The policy as people type it: trust, optimistic:60s, replicate:3, audit:10%. */
export function policyText(policy: number, param: bigint): string {
  const name = policyName(policy) ?? `policy ${policy}`;
  if (policy === Policy.optimistic) return `${name}:${param}s`;
  if (policy === Policy.replicate) return `${name}:${param}`;
  if (policy === Policy.audit) return `${name}:${Number((param * 10_000n) / PPM) / 100}%`;
  return name;
}

export function jobOutcome(p: { stage: string; policy: number; policyParam: bigint; deals: DealFacts[]; now: number }): JobOutcome {
  const { deals } = p;
  const named = (name: string) => deals.flatMap((d) => d.events.filter((e) => e.name === name).map((e) => ({ d, e })));
  const challenged = named("DealChallenged").length > 0;
  const rulings = named("Ruled");
  const audited = named("AuditDrawn").some(({ e }) => e.args.audited === true);
  const slashed = deals.some((d) => d.state === "slashed");
  const timedOut = deals.some((d) => d.state === "timedOut");
  const committed = deals.some((d) => d.committedAt > 0n || d.state !== "open");
  const opened = deals.filter((d) => d.state !== "none");

  const first = deals[0];
  const windowClosesAt = p.policy === Policy.optimistic && first && first.committedAt > 0n ? Number(first.committedAt + p.policyParam) : null;
  const challengeable = p.policy === Policy.optimistic && first?.state === "committed" && !challenged && windowClosesAt !== null && p.now < windowClosesAt;

  let verdict: Verdict;
  if (timedOut && !slashed) verdict = "timed-out";
  else if (slashed) verdict = "slashed";
  else if (rulings.length > 0) verdict = "upheld";
  else if (deals.some((d) => d.state === "challenged")) verdict = "mediating";
  else if (opened.length === 0 || !committed || deals.some((d) => d.state === "open")) verdict = p.policy === Policy.trust ? "unchecked" : "pending";
  else if (p.policy === Policy.trust) verdict = "unchecked";
  else if (p.policy === Policy.optimistic) verdict = challengeable ? "window-open" : "unchallenged";
  else if (p.policy === Policy.audit) verdict = named("AuditDrawn").length > 0 ? "not-drawn" : "awaiting-draw";
  else if (p.policy === Policy.replicate) verdict = deals.every((d) => d.state === "settled") ? "agreed" : "pending";
  else verdict = "pending";

  // The job creator's money: the price is paid on settlement; a mediation fee it owed when the
  // provider was found right; a slashed provider's collateral (less the mediator's fee) is its gain.
  const price = deals.reduce((s, d) => s + d.deal.price, 0n);
  let paid: bigint | null = 0n;
  let received = 0n;
  for (const d of deals) {
    if (!FINAL.has(d.state)) {
      // An unopened deal locked nothing; an open one still holds the price.
      if (d.state !== "none") paid = null;
      continue;
    }
    if (paid === null) continue;
    if (d.state === "settled") paid += d.deal.price;
    for (const e of d.events) {
      if (e.name === "MediationFeePaid" && String(e.args.payer).toLowerCase() === d.deal.jobCreator.toLowerCase()) paid += e.args.fee as bigint;
      if (e.name === "DealSlashed") received += (e.args.slashed as bigint) - (e.args.mediatorFee as bigint);
    }
  }

  const status = opened.length === 0 ? p.stage : summaryState(opened.map((d) => d.state));
  return {
    status,
    verification: {
      policy: policyText(p.policy, p.policyParam),
      checked: rulings.length > 0 || audited || (p.policy === Policy.replicate && opened.some((d) => FINAL.has(d.state))),
      challenged,
      verdict,
      windowClosesAt,
      challengeable,
    },
    cost: { price, paid, received },
  };
}

/** One word for the deals' states: the least advanced one while any is moving, else how they ended. */
function summaryState(states: DealStateName[]): string {
  const order: DealStateName[] = ["none", "open", "committed", "challenged"];
  for (const s of order) if (states.includes(s)) return s;
  if (states.includes("slashed")) return "slashed";
  if (states.includes("timedOut")) return "timedOut";
  return "settled";
}
