// A new proposal from the solver: check it (checkProposal), then sign it or decline it. The
// deal is written down before the signature leaves (a provider that signed must remember the
// deal), together with the job's blocks fetched for the check, kept for when it runs. Checks run
// concurrently, so each one reserves the job's resources before its first await: two proposals
// can never both count the same free capacity.
import type { LocalAccount } from "viem";
import { resourcesOf, addResources, type Resources } from "./resources.ts";
import type { DealRecord, JobOfferRecord } from "@lily/protocol";
import { onTrustDeals } from "@lily/chain";
import type { LocalDeal } from "./db.ts";
import { checkProposal } from "./checkProposal.ts";
import { heldCapacity, heldDeals } from "./capacity.ts";
import type { PricedModule } from "./pricing.ts";
import type { OfferKeeper } from "./offers.ts";
import type { ProviderOptions } from "./options.ts";
import { sendSignature } from "./openSteps.ts";
import { bestEffort, save, type StepContext } from "./stepContext.ts";

/** Resources reserved by checks in flight, by deal id. */
export type Reservations = Map<string, Resources>;

/**
 * How long a proposal that only finds this provider's capacity busy is left unsigned before it is
 * declined. The solver frees a deal's capacity when its result is on chain, a moment before this
 * provider has seen its own commit confirmed; declining in that moment would cost the job this
 * provider for good (a provider that declines is excluded from the job), so it looks again.
 */
export const BUSY_GRACE_MS = 3000;

export interface ProposalDeps {
  opts: Pick<ProviderOptions, "resources" | "maxOpenDelaySeconds" | "maxJobSeconds" | "maxConcurrentJobs"> & { account: LocalAccount };
  offers: OfferKeeper;
  /** The modules offered now with their prices, once the provider has read them (pricing.ts). */
  offered: () => ReadonlyMap<string, PricedModule> | undefined;
  reservations: Reservations;
  /** Proposals left unsigned because capacity was busy: when each was first found so (ms). */
  busySince: Map<string, number>;
}

/** `listed`: the job offer as the solver listed it with the proposal, if it did (else it is read). */
export async function considerProposal(ctx: StepContext, deps: ProposalDeps, record: DealRecord, listed?: JobOfferRecord): Promise<void> {
  const job = listed ?? (await ctx.solver.getJobOffer({ params: { id: record.jobOfferId } }));
  const now = Math.floor(ctx.clock() / 1000);
  const key = record.id.toLowerCase();
  // No await between reading what is held and reserving this job's share.
  const followed = ctx.db.followed();
  const held = [...deps.reservations.values()].reduce(addResources, heldCapacity(followed, now));
  const heldJobs = heldDeals(followed, now) + deps.reservations.size;
  deps.reservations.set(key, resourcesOf(job.offer));
  const offered = deps.offered();
  try {
    // Kept for the deal once signed (cache.keep below), blocks taken from memory can still be restored for a mediator.
    const source = ctx.cache.source(record.id, ctx.store, { recent: true });
    const verdict = await checkProposal(
      {
        domain: ctx.domain,
        me: deps.opts.account.address,
        offers: deps.offers.byId(),
        capacity: deps.opts.resources,
        held,
        heldJobs,
        ...(deps.opts.maxConcurrentJobs !== undefined && { maxJobs: deps.opts.maxConcurrentJobs }),
        ...(offered && { offered }),
        maxOpenDelaySeconds: deps.opts.maxOpenDelaySeconds,
        maxJobSeconds: deps.opts.maxJobSeconds,
        now,
        source,
        executors: ctx.executor,
      },
      record,
      job,
    );
    const local = {
      id: record.id,
      deal: record.deal,
      module: job.offer.module,
      inputs: job.offer.inputs,
      needs: resourcesOf(job.offer),
      ...(record.group && { group: record.group }),
    };
    if (!verdict.sign && verdict.busy) {
      const since = deps.busySince.get(key) ?? ctx.clock();
      deps.busySince.set(key, since);
      // Nothing recorded and nothing reported: the next pass checks the proposal again.
      if (ctx.clock() - since < BUSY_GRACE_MS) return;
    }
    deps.busySince.delete(key);
    if (!verdict.sign) {
      const reason = verdict.decline.message;
      ctx.logger.warn("declining deal", { deal: record.id, code: verdict.decline.code, field: verdict.decline.field, reason });
      save(ctx, { ...local, status: "declined", error: reason, reported: "rejected" });
      await bestEffort(ctx, "rejected report", () => ctx.report.status(record.id, "rejected", { error: reason }));
      return;
    }
    ctx.cache.keep(verdict.id, source.fetched);
    const { manifest } = verdict.job;
    const signing: LocalDeal = {
      ...local,
      id: verdict.id,
      status: "signed",
      moduleRef: `${manifest.name}@${manifest.version}`,
      executor: manifest.executor.kind,
    };
    // A routed trust deal is stored with its nonce at once: read back, it is never without one.
    const signed = onTrustDeals(ctx.chain.addresses, signing.deal) ? ctx.db.withNextTrustNonce(signing, Math.floor(ctx.clock() / 1000)) : save(ctx, signing);
    await sendSignature(ctx, signed);
  } finally {
    deps.reservations.delete(key);
  }
}
