// What the provider reads before deciding a deal's next step: the deal on chain and, under
// replicate(k), its whole group: the replicas' terms and signatures from the solver (needed to
// open the group) and their states on chain (needed to tally it). The group's terms are kept in
// the provider's database once the group is on chain, so it can tally even if the solver forgets.
// A routed trust deal is read where it lives (routedDealRecord): LilyTrustDeals keeps only its
// state, which is all the steps of a trust deal read.
import { isAddressEqual, type Hex } from "viem";
import { dealState, routedDealRecord, type LilyClient } from "@lily/chain";
import { Policy, hashRecord, type DealRecord, type Domain } from "@lily/protocol";
import type { Client, SolverRoutes } from "@lily/api";
import { routedOf, type LocalDeal, type ProviderDb } from "./db.ts";
import type { DealView, ReplicaView } from "./nextStep.ts";

export interface ObserveContext {
  chain: LilyClient;
  /** The contract's MEDIATION_TIMEOUT, in seconds. */
  mediationTimeoutSeconds: number;
  solver: Client<SolverRoutes>;
  domain: Domain;
  db: ProviderDb;
}

/** The view of one followed deal at `now` (unix seconds); `record` is the solver's, if it listed one. */
export async function observe(ctx: ObserveContext, local: LocalDeal, record: DealRecord | undefined, now: number): Promise<DealView> {
  const onChain = await routedDealRecord(ctx.chain, routedOf(local));
  const view: DealView = {
    local,
    chain: { state: onChain.state, committedAt: onChain.committedAt, challengedAt: onChain.challengedAt },
    mediationTimeoutSeconds: ctx.mediationTimeoutSeconds,
    now,
    ...(record && { record }),
  };
  if (local.deal.policy !== Policy.replicate) return view;
  const state = onChain.state;
  // The group matters before it opens (signatures), once tallying is near (states), and is kept as soon as it is on chain.
  if (state === "none" || state === "committed" || (state === "open" && !local.replicas)) {
    const group = await observeGroup(ctx, local);
    if (group) view.group = group;
    // Kept once on chain: the group can be tallied even if the solver forgets it.
    if (group && state !== "none" && !local.replicas) {
      view.local = { ...local, replicas: group.map((r) => r.deal) };
      ctx.db.put(view.local);
    }
  }
  return view;
}

async function observeGroup(ctx: ObserveContext, local: LocalDeal): Promise<ReplicaView[] | undefined> {
  if (local.replicas) {
    const states = await Promise.all(local.replicas.map((deal) => dealState(ctx.chain, { dealId: hashRecord(ctx.domain, "Deal", deal) })));
    const opened = states.some((s) => s !== "none");
    // Before the group opens the signatures are still needed, and only the solver has them.
    if (opened) return local.replicas.map((deal, i) => ({ id: hashRecord(ctx.domain, "Deal", deal), deal, state: states[i]! }));
  }
  const fromSolver = await groupFromSolver(ctx, local);
  if (!fromSolver) return undefined;
  const states = await Promise.all(fromSolver.map((r) => dealState(ctx.chain, { dealId: r.id })));
  return fromSolver.map((r, i) => ({ ...r, state: states[i]! }));
}

/** The group's replicas as the solver holds them, each checked to belong to this deal's group; undefined unless all k are there. */
async function groupFromSolver(ctx: ObserveContext, local: LocalDeal): Promise<Omit<ReplicaView, "state">[] | undefined> {
  const job = await ctx.solver.getJobOffer({ params: { id: local.deal.jobOffer } });
  const records = await Promise.all(job.dealIds.map((id) => ctx.solver.getDeal({ params: { id } })));
  const replicas = (local.group ?? []).map((provider) =>
    records.find(
      (r) =>
        // REJECT: a replica of this group names the same job offer and group, and its id is its terms' digest
        isAddressEqual(r.deal.provider, provider) &&
        r.deal.jobOffer === local.deal.jobOffer &&
        r.deal.replicas === local.deal.replicas &&
        hashRecord(ctx.domain, "Deal", r.deal) === r.id.toLowerCase(),
    ),
  );
  // REJECT: this provider's own replica is the deal it signed
  if (!replicas.some((r) => r?.id.toLowerCase() === local.id.toLowerCase())) return undefined;
  if (replicas.some((r) => r === undefined)) return undefined;
  return (replicas as DealRecord[]).map((r) => ({
    id: r.id.toLowerCase() as Hex,
    deal: r.deal,
    ...(r.jobCreatorSignature && { jobCreatorSig: r.jobCreatorSignature }),
    ...(r.providerSignature && { providerSig: r.providerSignature }),
    status: r.status,
  }));
}
