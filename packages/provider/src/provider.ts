// The resource provider as a unit: its peers (chain, solver, store), its executor, its clock and
// the way it produces results are passed in. Each pass reads the solver's proposals and checks
// the new ones (checkProposal: sign or decline), then, for every deal it follows, reads the view
// (observe), asks what next (nextStep, pure) and applies it (applyStep). At most one step per deal
// is in flight, many deals at once; every pass starts again from the chain's word, so a step that
// failed or a restart loses nothing.
import type { Hex } from "viem";
import { escrowBalance, lilyDealsAbi, withLilyErrors, type LilyClient } from "@lily/chain";
import type { Client, SolverRoutes } from "@lily/api";
import { isLilyError, type DealRecord, type Domain } from "@lily/protocol";
import type { Executor, LoadJobOptions } from "@lily/executor";
import type { Logger } from "@lily/node-kit";
import type { StoreClient } from "@lily/store";
import { join } from "node:path";
import type { ProviderOptions } from "./options.ts";
import { ProviderDb, type LocalDeal } from "./db.ts";
import { JobCache } from "./jobCache.ts";
import { OfferKeeper } from "./offers.ts";
import { createReporter } from "./report.ts";
import { honestStrategy, type ProviderStrategy } from "./strategy.ts";
import type { StepContext } from "./stepContext.ts";
import { considerProposal, type Reservations } from "./considerProposal.ts";
import { observe } from "./observe.ts";
import { nextStep, shouldCheck } from "./nextStep.ts";
import { applyStep } from "./applyStep.ts";

export interface ProviderDeps {
  logger: Logger;
  /** Sends from `opts.account`. */
  chain: LilyClient;
  solver: Client<SolverRoutes>;
  store: StoreClient;
  executor: Executor & LoadJobOptions;
  /** Milliseconds since the epoch; Date.now by default. */
  clock?: () => number;
  /** How results are produced: the honest strategy runs the job. The devnet injects adversaries. */
  strategy?: ProviderStrategy;
  /** Calls `onChange` when the solver signals news for this provider, for a pass sooner than the poll. */
  watch?: (onChange: () => void) => { close(): void };
}

export interface RunningProvider {
  address: Hex;
  /** The resource offer the solver holds for this provider now. */
  readonly offerId: Hex;
  /** The provider's record of every deal it was proposed. */
  deals(): LocalDeal[];
  close(): Promise<void>;
}

/** `offerId` before any offer was made. */
const NO_OFFER: Hex = "0x";

/** How long close() waits for steps in flight before closing the database. */
const CLOSE_GRACE_MS = 5000;

export async function startProvider(opts: ProviderOptions, deps: ProviderDeps): Promise<RunningProvider> {
  const log = deps.logger;
  const clock = deps.clock ?? Date.now;
  const me = opts.account.address;
  const domain: Domain = { chainId: opts.chainId, verifyingContract: opts.deals };
  const mediationTimeoutSeconds = Number(
    await withLilyErrors(() => deps.chain.publicClient.readContract({ address: opts.deals, abi: lilyDealsAbi, functionName: "MEDIATION_TIMEOUT" })),
  );
  const deposit = await escrowBalance(deps.chain, { account: me });
  if (deposit < opts.collateral) log.warn("escrow deposit below collateral: deals will fail to open", { deposit, collateral: opts.collateral });
  const db = new ProviderDb(opts.dbPath);
  const ctx: StepContext = {
    account: opts.account,
    domain,
    chain: deps.chain,
    solver: deps.solver,
    store: deps.store,
    executor: deps.executor,
    db,
    cache: new JobCache(join(opts.workDir, "jobs")),
    report: createReporter({ account: opts.account, domain, solver: deps.solver, clock }),
    strategy: deps.strategy ?? honestStrategy,
    logger: log,
    workDir: join(opts.workDir, "runs"),
    clock,
  };
  const offers = new OfferKeeper({ terms: opts, account: opts.account, domain, solver: deps.solver, db, clock, logger: log });
  const reservations: Reservations = new Map();
  const busySince = new Map<string, number>();
  const busy = new Map<string, Promise<void>>();
  const seconds = () => Math.floor(clock() / 1000);
  let closed = false;
  let closing: Promise<void> | undefined;

  // A solver that does not answer must not keep the provider from following its deals on chain:
  // the offer is checked again on every pass. Anything else (the solver refusing the offer) is a
  // misconfiguration to stop on.
  let offerId: Hex = await offers.ensure().catch((e) => {
    if (!isLilyError(e, "UNREACHABLE")) {
      db.close();
      throw e;
    }
    log.warn("solver not reached at start: following deals from the chain, offering when it answers", { err: e });
    return db.offers().at(-1)?.id ?? NO_OFFER;
  });

  /** Handle one deal at most once at a time; errors are logged and the next pass decides again. */
  function handle(id: string, f: () => Promise<void>): void {
    const key = id.toLowerCase();
    if (busy.has(key) || closed) return;
    const step = f()
      .catch((e) => log.warn("deal step failed; retrying on the next pass", { deal: id, err: e }))
      .finally(() => busy.delete(key));
    busy.set(key, step);
  }

  let lastOfferCheck = clock();
  let offerCheck: Promise<void> | undefined;
  /** At most once per poll interval, and one at a time: is the solver still holding our offer? */
  function checkOffer(): void {
    if (offerCheck || clock() - lastOfferCheck < opts.pollMs) return;
    lastOfferCheck = clock();
    offerCheck = offers
      .ensure()
      .then((id) => {
        offerId = id;
      })
      .catch((e) => log.warn("resource offer not checked", { err: e }))
      .finally(() => (offerCheck = undefined));
  }

  async function pass(): Promise<void> {
    let records: DealRecord[] | undefined;
    try {
      records = (await deps.solver.listDeals({ query: { provider: me } })).deals;
    } catch (e) {
      log.warn("solver not read; following deals from the chain alone", { err: e });
    }
    const byId = new Map((records ?? []).map((r) => [r.id.toLowerCase(), r]));
    for (const r of records ?? []) {
      if (shouldCheck(r, db.get(r.id) !== undefined, seconds())) handle(r.id, () => considerProposal(ctx, { opts, offers, reservations, busySince }, r));
    }
    // A proposal left waiting for capacity that the solver no longer proposes needs no more waiting.
    if (records) for (const id of busySince.keys()) if (!byId.get(id)?.status.startsWith("proposed")) busySince.delete(id);
    for (const local of db.followed()) {
      handle(local.id, async () => {
        const view = await observe({ ...ctx, mediationTimeoutSeconds }, local, byId.get(local.id.toLowerCase()), seconds());
        const step = nextStep(view);
        if (step.kind === "wait") log.debug("deal waits", { deal: local.id, why: step.why });
        else log.debug("deal step", { deal: local.id, step: step.kind });
        await applyStep(ctx, view, step);
      });
    }
    checkOffer();
  }

  let timer: NodeJS.Timeout | undefined;
  let passing = false;
  let again = false;
  /** One pass at a time: news that arrives during a pass asks for one more right after it. */
  const tick = () => {
    if (closed) return;
    if (passing) {
      again = true;
      return;
    }
    passing = true;
    again = false;
    clearTimeout(timer);
    pass()
      .catch((e) => log.warn("pass failed", { err: e }))
      .finally(() => {
        passing = false;
        if (closed) return;
        if (again) tick();
        else timer = setTimeout(tick, opts.pollMs);
      });
  };
  const watcher = deps.watch?.(tick);
  tick();

  return {
    address: me,
    get offerId() {
      return offerId;
    },
    deals: () => db.all(),
    close() {
      // Closing twice waits for the same close.
      closing ??= (async () => {
        closed = true;
        clearTimeout(timer);
        watcher?.close();
        const grace = new Promise((r) => setTimeout(r, CLOSE_GRACE_MS).unref());
        await Promise.race([Promise.allSettled([...busy.values(), offerCheck]), grace]);
        db.close();
      })();
      return closing;
    },
  };
}
