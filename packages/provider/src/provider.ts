// The resource provider as a unit: its peers (chain, solver, store), its executor, its clock and
// the way it produces results are passed in. Each pass reads the solver's proposals and checks
// the new ones (checkProposal: sign or decline), then, for every deal it follows, reads the view
// (observe), asks what next (nextStep, pure) and applies it (applyStep). At most one step per deal
// is in flight, many deals at once; every pass starts again from the chain's word, so a step that
// failed or a restart loses nothing.
import type { Hex } from "viem";
import { escrowBalance, leaseDomain, lilyDealsAbi, untilChainAnswers, withLilyErrors, type LilyClient } from "@lily/chain";
import { createClient, modelOfferRoutes, type ChangeHint, type Client, type SolverRoutes } from "@lily/api";
import { SIGNED_RESULT_GRACE_SECONDS, isCid, isLilyError, toWire, type DealRecord, type Domain, type JobOfferRecord, type ExecutorKind } from "@lily/protocol";
import type { Executor, LoadJobOptions } from "@lily/executor";
import type { Logger } from "@lily/node-kit";
import type { StoreClient } from "@lily/store";
import { join } from "node:path";
import type { ProviderOptions } from "./options.ts";
import { FOLLOWED, ProviderDb, type LocalDeal } from "./db.ts";
import { JobCache } from "./jobCache.ts";
import { OfferKeeper } from "./offers.ts";
import { OfferSchedule } from "./offerSchedule.ts";
import { createReporter } from "./report.ts";
import { honestStrategy, type ProviderStrategy } from "./strategy.ts";
import type { StepContext } from "./stepContext.ts";
import { considerProposal, type Reservations } from "./considerProposal.ts";
import { observe } from "./observe.ts";
import { nextStep, shouldCheck } from "./nextStep.ts";
import { applyStep, postResult } from "./applyStep.ts";
import { DealSteps } from "./dealSteps.ts";
import { watchLostBlocks } from "./lostBlocks.ts";
import { PassNews, type News } from "./passNews.ts";
import { PushedDeals } from "./pushedDeals.ts";
import { isEcho } from "./newsFilter.ts";
import { RunGate } from "./runGate.ts";
import { planOffers, type ModuleInfo, type OfferPlan, type PricedModule } from "./pricing.ts";
import { readModules } from "./knownModules.ts";
import { followRegistry } from "./registeredModules.ts";
import { diskFreeBytes } from "./detect.ts";
import { statusFromDb, type ProviderStatus } from "./status.ts";
import { startMetricsServer, type MetricsServer } from "./metricsServer.ts";
import { loadModel, type LoadModelDeps } from "./leases/loadModel.ts";
import type { LocalLease } from "./leases/leaseBook.ts";
import { leaseChainOf } from "./leases/leaseChain.ts";
import type { ServedModel } from "./leases/servedModel.ts";
import { defaultLeaseServiceOptions, startLeaseService, type RunningLeaseService } from "./leases/startLeaseService.ts";

/** The solver's deals a pass lists: those still before opening (after it the chain drives every step). */
const LISTED: readonly string[] = ["proposed", "signed"];

export interface ProviderDeps {
  logger: Logger;
  /** Sends from `opts.account`. */
  chain: LilyClient;
  solver: Client<SolverRoutes>;
  store: StoreClient;
  /** `kinds`: the executors it has (an ExecutorSet's); modules needing another are not offered. */
  executor: Executor & LoadJobOptions & { readonly kinds?: readonly ExecutorKind[] };
  /** Milliseconds since the epoch; Date.now by default. */
  clock?: () => number;
  /** How results are produced: the honest strategy runs the job. The devnet injects adversaries. */
  strategy?: ProviderStrategy;
  /**
   * Calls `onChange` when the solver signals a change for this provider (with what changed, if
   * known), for a pass sooner than the poll; with one solver, also with the event as JSON parsed it
   * (its record then serves a pass about that deal alone: pushedDeals.ts).
   */
  watch?: (onChange: (hint: ChangeHint | undefined, event?: unknown) => void) => { close(): void };
  /** Builds the runner of a GGUF model it serves (default node-llama-cpp). */
  llama?: LoadModelDeps["llama"];
}

export interface RunningProvider {
  address: Hex;
  /** The resource offer the solver holds for this provider now (the first, when it has one per price). */
  readonly offerId: Hex;
  /** Every resource offer the solver holds for it now, one per distinct price. */
  readonly offerIds: readonly Hex[];
  /** The modules it offers and at what price, and those it refuses (once their manifests were read). */
  readonly plan: OfferPlan | undefined;
  /** Where /metrics and /status are served, when `metricsPort` was given. */
  readonly metricsUrl: string | undefined;
  /** The lease API's URL, when it serves models. */
  readonly leaseUrl: string | undefined;
  /** The models it serves under leases. */
  readonly models: readonly ServedModel[];
  /** Every inference lease it countersigned. */
  leases(): LocalLease[];
  /** The provider's record of every deal it was proposed. */
  deals(): LocalDeal[];
  /** What /status serves: capacity, what holds and runs, jobs by outcome, earnings, slashes. */
  status(): ProviderStatus;
  close(): Promise<void>;
}

/** `offerId` before any offer was made. */
const NO_OFFER: Hex = "0x";

/** How long close() waits for steps in flight before closing the database. */
const CLOSE_GRACE_MS = 5000;
/** How often manifests that could not be read are asked for again. */
const UNREAD_RETRY_MS = 30_000;

export async function startProvider(opts: ProviderOptions, deps: ProviderDeps): Promise<RunningProvider> {
  const log = deps.logger;
  const clock = deps.clock ?? Date.now;
  const me = opts.account.address;
  const domain: Domain = { chainId: opts.chainId, verifyingContract: opts.deals };
  // A chain node away at start-up (restarting) is waited for, not a failed start.
  const onWait = (err: Error) => log.warn("chain node not answering at start-up; waiting for it", { err });
  const mediationTimeoutSeconds = Number(
    await untilChainAnswers(
      () => withLilyErrors(() => deps.chain.publicClient.readContract({ address: opts.deals, abi: lilyDealsAbi, functionName: "MEDIATION_TIMEOUT" })),
      { onWait },
    ),
  );
  const deposit = await untilChainAnswers(() => escrowBalance(deps.chain, { account: me }), { onWait });
  if (deposit < opts.collateral) log.warn("escrow deposit below collateral: deals will fail to open", { deposit, collateral: opts.collateral });
  // Trust deals lock their collateral in LilyTrustDeals' own escrow, on a network that has one.
  const trustEscrow = deps.chain.addresses.trustDeals;
  if (trustEscrow) {
    const trustDeposit = await untilChainAnswers(() => escrowBalance(deps.chain, { account: me, escrow: trustEscrow }), { onWait });
    if (trustDeposit < opts.collateral)
      log.warn("trust deals escrow deposit below collateral: trust deals will fail to open", {
        deposit: trustDeposit,
        collateral: opts.collateral,
        escrow: trustEscrow,
      });
  }
  const db = new ProviderDb(opts.dbPath);
  const startedAt = clock();
  // A job that ends lets one that waits for its capacity run at once, not a poll later.
  const gate = new RunGate({ capacity: opts.resources, ...(opts.maxConcurrentJobs !== undefined && { maxJobs: opts.maxConcurrentJobs }) }, () => news());
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
    gate,
    logger: log,
    workDir: join(opts.workDir, "runs"),
    clock,
  };
  // What it offers at which price, from the modules' manifests: read once each, those that could not be read asked again.
  const known = new Map<string, ModuleInfo>();
  let plan: OfferPlan | undefined;
  let offered: ReadonlyMap<string, PricedModule> | undefined;
  let lastRead = -Infinity;
  const attempted = new Set<string>();
  /** Models share the registry with modules: read once, they are not read again every retry. */
  const modelCids = new Set<string>();
  const registered = opts.followRegistry ? followRegistry(deps.chain, log) : undefined;
  // A module its allow-list names by CID is offered even if the network's list lacks it.
  const candidates = async () => [...new Set([...opts.modules, ...((await registered?.cids()) ?? []), ...(opts.moduleTerms?.allow ?? []).filter(isCid)])];
  /** A module published since the plan was made: its offer is due at once, not at the next check. */
  const newModules = async () => (await candidates()).some((c) => !attempted.has(c));
  async function currentPlan(): Promise<OfferPlan> {
    const all = await candidates();
    const unread = all.filter((c) => !known.has(c) && !modelCids.has(c));
    // A module never tried (just published) is read at once; one whose manifest could not be read waits.
    const fresh = unread.some((c) => !attempted.has(c));
    if (plan && (unread.length === 0 || (!fresh && clock() - lastRead < UNREAD_RETRY_MS))) return plan;
    lastRead = clock();
    for (const c of unread) attempted.add(c);
    const read = await readModules(deps.store, unread);
    for (const m of read.modules) known.set(m.cid, m);
    for (const c of read.models) modelCids.add(c);
    for (const u of read.unreadable) log.warn("module not offered: its manifest could not be read", { module: u.cid, why: u.why });
    const next = planOffers(
      all.flatMap((c) => known.get(c) ?? []),
      { ...opts.moduleTerms, price: opts.price, ...(deps.executor.kinds && { executors: deps.executor.kinds }) },
    );
    if (!plan) {
      for (const r of next.refused) log.info("module not offered", { module: `${r.module.name}@${r.module.version}`, why: r.why });
      for (const s of next.unmatched) log.warn("a module named in the provider's terms is not among the modules it knows", { module: s });
    }
    plan = next;
    offered = new Map(next.offered.map((p) => [p.module.cid, p]));
    return next;
  }
  const offers = new OfferKeeper({
    terms: opts,
    plan: async () => (await currentPlan()).groups,
    account: opts.account,
    domain,
    solver: deps.solver,
    db,
    clock,
    logger: log,
  });
  const reservations: Reservations = new Map();
  const busySince = new Map<string, number>();
  const seconds = () => Math.floor(clock() / 1000);
  let closed = false;
  let closing: Promise<void> | undefined;

  // A solver that does not answer must not keep the provider from following its deals on chain:
  // the offer is checked again on the next passes until it does. Anything else (the solver
  // refusing the offer) is a misconfiguration to stop on.
  const offerSchedule = new OfferSchedule();
  offerSchedule.started(clock());
  let offerIds: Hex[] = await offers.ensure().then(
    (ids) => {
      offerSchedule.succeeded(offers.renewAt());
      return ids;
    },
    (e) => {
      if (!isLilyError(e, "UNREACHABLE")) {
        db.close();
        throw e;
      }
      log.warn("solver or store not reached at start: following deals from the chain, offering when they answer", { err: e });
      offerSchedule.failed();
      return db
        .offers()
        .slice(-1)
        .map((o) => o.id);
    },
  );

  const steps = new DealSteps({
    onError: (id, e) => log.warn("deal step failed; retrying on the next pass", { deal: id, err: e }),
    passAgain: () => tick(),
  });
  /** One step per deal at a time (dealSteps.ts); none once closing. */
  function handle(id: string, f: () => Promise<void>, withNews: boolean): void {
    if (!closed) steps.handle(id, f, withNews);
  }

  const lostBlocks = watchLostBlocks({
    db,
    chain: deps.chain,
    logger: log,
    clock,
    onLost: () => news(),
    // Started below, once the models are loaded; none until then, or for a provider without models.
    leases: { followAgain: () => leaseService?.followAgain() ?? 0 },
  });

  let offerCheck: Promise<void> | undefined;
  /** When its schedule says (offerSchedule.ts), one at a time: is the solver still holding our offers? */
  function checkOffer(): void {
    if (offerCheck) return;
    offerCheck = (async () => {
      if (!offerSchedule.due(clock(), opts.pollMs) && !(await newModules())) return;
      offerSchedule.started(clock());
      offerIds = await offers.ensure();
      offerSchedule.succeeded(offers.renewAt());
    })()
      .catch((e) => {
        offerSchedule.failed();
        log.warn("resource offer not checked", { err: e });
      })
      .finally(() => (offerCheck = undefined));
  }

  /** Take one deal's step: what nextStep decides from its chain state and the solver's record (if listed). */
  function follow(local: LocalDeal, record: DealRecord | undefined, withNews: boolean): void {
    handle(
      local.id,
      async () => {
        const view = await observe({ ...ctx, mediationTimeoutSeconds }, local, record, seconds());
        const step = nextStep(view);
        if (step.kind === "wait") log.debug("deal waits", { deal: local.id, why: step.why });
        else log.debug("deal step", { deal: local.id, step: step.kind });
        await applyStep(ctx, view, step);
      },
      withNews,
    );
  }

  /**
   * The deals a pass about them alone would take, with their records (pushedDeals.ts): when all the
   * news named deals followed here, each with a valid record kept from its event, and the last
   * full pass is less than a poll old. Else undefined: a full pass.
   */
  function targeted(news: News): { local: LocalDeal; record: DealRecord }[] | undefined {
    if (news.all || news.named.size === 0 || clock() - lastFullPass >= opts.pollMs) return undefined;
    const out: { local: LocalDeal; record: DealRecord }[] = [];
    for (const id of news.named) {
      const local = db.get(id as Hex);
      const record = pushed.take(id);
      if (!local || !FOLLOWED.includes(local.status) || !record) return undefined;
      out.push({ local, record });
    }
    return out;
  }

  async function pass(): Promise<void> {
    const news = passNews.take();
    const only = targeted(news);
    if (only) {
      // As a full pass would give them: the solver's record only while it lists the deal (proposed or signed).
      for (const { local, record } of only) follow(local, LISTED.includes(record.status) ? record : undefined, true);
      checkOffer();
      lostBlocks.check();
      return;
    }
    lastFullPass = clock();
    pushed.clear(); // the list read now supersedes them
    const withNews = (id: string) => news.concerns(id);
    let records: DealRecord[] | undefined;
    let jobOffers = new Map<string, JobOfferRecord>();
    try {
      // Only the deals still before opening: after that the chain drives every step, and the
      // solver's whole history of this provider, read every pass, grew each pass with the number
      // of jobs ever run (the largest CPU cost of a provider and the solver under load). The
      // proposals' job offers come with them (checked as if read alone: checkProposal).
      const listed = await deps.solver.listDeals({ query: { provider: me, status: LISTED.join(","), with: "jobOffers" } });
      records = listed.deals;
      jobOffers = new Map((listed.jobOffers ?? []).map((j) => [j.id.toLowerCase(), j]));
    } catch (e) {
      log.warn("solver not read; following deals from the chain alone", { err: e });
    }
    const byId = new Map((records ?? []).map((r) => [r.id.toLowerCase(), r]));
    for (const r of records ?? []) {
      if (shouldCheck(r, db.get(r.id) !== undefined, seconds()))
        handle(
          r.id,
          () => considerProposal(ctx, { opts, offers, offered: () => offered, reservations, busySince }, r, jobOffers.get(r.jobOfferId.toLowerCase())),
          withNews(r.id),
        );
    }
    // A proposal left waiting for capacity that the solver no longer proposes needs no more waiting.
    if (records) for (const id of busySince.keys()) if (!byId.get(id)?.status.startsWith("proposed")) busySince.delete(id);
    for (const local of db.followed()) follow(local, byId.get(local.id.toLowerCase()), withNews(local.id));
    // Settled, so no longer followed, but the solver never took its signed Result (it did not answer).
    const now = seconds();
    for (const id of db.giveUpResults(now, Number(SIGNED_RESULT_GRACE_SECONDS))) log.warn("signed result never taken by the solver: given up", { deal: id });
    for (const local of db.resultsToResend(now, Number(SIGNED_RESULT_GRACE_SECONDS)))
      handle(local.id, () => postResult(ctx, { ...local, resultCid: local.resultCid! }), withNews(local.id));
    checkOffer();
    lostBlocks.check();
  }

  let timer: NodeJS.Timeout | undefined;
  let passing = false;
  let again = false;
  /** Something changed: a solver event about one deal, or (no id) capacity freed, a reconnection, a lost block. */
  const passNews = new PassNews();
  /** The records the solver's events brought (one solver only: connect.ts), and when a pass last listed the solver's deals (ms). */
  const pushed = new PushedDeals();
  let lastFullPass = Number.NEGATIVE_INFINITY;
  const news = (dealId?: string) => {
    passNews.note(dealId);
    tick();
  };
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
  const status = () =>
    statusFromDb(db, seconds(), {
      startedAt,
      offerIds: offerIds.map((id) => id.toLowerCase()),
      capacity: opts.resources,
      ...(opts.maxConcurrentJobs !== undefined && { maxConcurrentJobs: opts.maxConcurrentJobs }),
      running: { jobs: gate.count(), resources: gate.inUse() },
      diskFreeBytes: diskFreeBytes(opts.workDir),
    });
  let metrics: MetricsServer | undefined;
  if (opts.metricsPort !== undefined) {
    try {
      metrics = await startMetricsServer({ port: opts.metricsPort, host: opts.metricsHost ?? "127.0.0.1" }, status, log);
    } catch (e) {
      db.close();
      throw e;
    }
  }

  // Inference leases: only for a provider that serves models.
  const models: ServedModel[] = [];
  let leaseService: RunningLeaseService | undefined;
  try {
    for (const spec of opts.models ?? []) {
      models.push(await loadModel(spec, { store: deps.store, modelsDir: join(opts.workDir, "models"), ...(deps.llama && { llama: deps.llama }) }));
      // Its weights are checked; llama.cpp loads it on the first request for it (lazyRunner.ts).
      log.info("model ready", { model: spec.label, cid: spec.cid, source: spec.source.kind });
    }
    if (models.length > 0) {
      const offerSolver = createClient(opts.solverUrl, modelOfferRoutes, { peer: `solver at ${opts.solverUrl}` });
      leaseService = await startLeaseService(
        { ...defaultLeaseServiceOptions, ...opts.leaseService, mediators: opts.mediators, maxOpenDelaySeconds: opts.maxOpenDelaySeconds, pollMs: opts.pollMs },
        {
          account: opts.account,
          domain: leaseDomain(deps.chain.addresses),
          db: db.database,
          chain: leaseChainOf(deps.chain),
          models,
          postOffer: (signed) => offerSolver.postModelOffer({ body: toWire(signed) as never }),
          logger: log.child("leases"),
          clock,
        },
      );
    }
  } catch (e) {
    await metrics?.close();
    await Promise.allSettled(models.map((m) => m.runner.close()));
    db.close();
    throw e;
  }

  // An echo of the provider's own step (newsFilter.ts) starts no pass. A reconnection (no hint)
  // or a rejected deal may mean offers the solver no longer holds: they are checked next pass.
  const watcher = deps.watch?.((hint, event) => {
    if (closed) return;
    if (!hint || hint.status === "rejected") offerSchedule.news();
    const echo = isEcho(hint, hint && db.statusOf(hint.id));
    if (hint) pushed.put(event, { news: !echo });
    else pushed.clear();
    if (!echo) news(hint?.id);
  });
  news();

  return {
    address: me,
    get offerId() {
      return offerIds[0] ?? NO_OFFER;
    },
    get offerIds() {
      return offerIds;
    },
    get plan() {
      return plan;
    },
    metricsUrl: metrics?.url,
    leaseUrl: leaseService?.url,
    models,
    leases: () => leaseService?.leases() ?? [],
    deals: () => db.all(),
    status: () => status().status,
    close() {
      // Closing twice waits for the same close.
      closing ??= (async () => {
        closed = true;
        clearTimeout(timer);
        watcher?.close();
        await metrics?.close();
        await leaseService?.close();
        await Promise.allSettled(models.map((m) => m.runner.close()));
        const grace = new Promise((r) => setTimeout(r, CLOSE_GRACE_MS).unref());
        await Promise.race([Promise.allSettled([...steps.inFlight(), offerCheck, lostBlocks.running]), grace]);
        db.close();
      })();
      return closing;
    },
  };
}
