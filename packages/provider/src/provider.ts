// The resource provider as a process: it advertises a signed resource offer to the solver,
// signs the deals it is proposed (after checking them), opens them on chain, runs each job in
// the sandbox, commits the result on chain and reports it. Its deals live in SQLite, so after a
// crash it re-runs every deal it opened and still owes a result for, before the deadline.
import type { Hex } from "viem";
import { createClient, solverRoutes, subscribe } from "@lily/api";
import { createLilyClient, escrowBalance, dealState, openDeal, commitResult, finalize } from "@lily/chain";
import {
  hashRecord,
  signRecord,
  cidDigest,
  LilyError,
  Policy,
  NO_TX_HASH,
  type DealProgress,
  type DealRecord,
  type Domain,
  type ReportedDealStatus,
  type ResourceOffer,
} from "@lily/protocol";
import type { Logger } from "@lily/node-kit";
import { StoreClient } from "@lily/store";
import type { ProviderOptions } from "./options.ts";
import { ProviderDb, type LocalDeal } from "./db.ts";
import { checkProposal } from "./checkProposal.ts";
import { runJob, fabricateResult } from "./runJob.ts";
import { createWasmExecutor } from "@lily/executor";

/** Contract errors that only mean "finalize later". */
const notYet = new Set(["DealsChallengeWindowOpen", "DealsAuditDrawPending"]);

export interface RunningProvider {
  address: Hex;
  offerId: Hex;
  close(): Promise<void>;
}

export async function startProvider(opts: ProviderOptions, deps: { logger: Logger }): Promise<RunningProvider> {
  const log = deps.logger;
  const me = opts.account.address;
  const domain: Domain = { chainId: opts.chainId, verifyingContract: opts.deals };
  const db = new ProviderDb(opts.dbPath);
  const chain = createLilyClient({ rpcUrl: opts.rpcUrl, account: opts.account, addresses: { chainId: opts.chainId, token: opts.token, deals: opts.deals, deployBlock: opts.deployBlock } });
  const solver = createClient(opts.solverUrl, solverRoutes, { peer: `solver at ${opts.solverUrl}` });
  const store = new StoreClient(opts.storeUrl);
  const executor = createWasmExecutor();
  const offers = new Map<string, ResourceOffer>();
  const busy = new Set<string>();
  let closed = false;
  let offerId: Hex = "0x";

  const deposit = await escrowBalance(chain, { account: me });
  if (deposit < opts.collateral) {
    log.warn("escrow deposit below collateral: deals will fail to open", { deposit, collateral: opts.collateral });
  }

  async function advertise(): Promise<void> {
    const offer: ResourceOffer = {
      provider: me,
      ...opts.resources,
      price: opts.price,
      collateral: opts.collateral,
      modules: opts.modules,
      mediators: opts.mediators,
      expiresAt: BigInt(Math.floor(Date.now() / 1000) + opts.offerTtlSeconds),
      // The solver only replaces an offer with one of a higher nonce (no replay of old offers).
      nonce: BigInt(Date.now()),
    };
    const signature = await signRecord(opts.account, domain, "ResourceOffer", offer);
    offerId = hashRecord(domain, "ResourceOffer", offer);
    offers.set(offerId, offer);
    await solver.postResourceOffer({ body: { offer, signature } });
    log.info("resource offer posted", { offer: offerId, price: opts.price, modules: opts.modules.length });
  }

  /** Tell the solver how a deal is going, signed, so that nobody but this provider can end it. */
  async function report(id: Hex, status: ReportedDealStatus, o: { txHash?: Hex; error?: string } = {}): Promise<void> {
    const progress: DealProgress = {
      dealId: id,
      provider: me,
      status,
      txHash: o.txHash ?? NO_TX_HASH,
      at: BigInt(Math.floor(Date.now() / 1000)),
      error: o.error ?? "",
    };
    const signature = await signRecord(opts.account, domain, "DealProgress", progress);
    await solver.postDealStatus({ params: { id }, body: { progress, signature } });
  }

  async function accept(r: DealRecord): Promise<void> {
    try {
      const job = await solver.getJobOffer({ params: { id: r.jobOfferId } });
      await checkProposal(domain, me, offers, r, job, store, Math.floor(Date.now() / 1000));
    } catch (e) {
      const reason = e instanceof LilyError ? e.message : String(e);
      log.warn("declining deal", { deal: r.id, reason });
      db.put({ id: r.id, deal: r.deal, module: r.module, inputs: r.inputs, status: "declined", error: reason });
      await report(r.id, "rejected", { error: reason });
      return;
    }
    // Record the signature before sending it: a provider that signed must remember the deal.
    db.put({ id: r.id, deal: r.deal, module: r.module, inputs: r.inputs, status: "signed" });
    const signature = await signRecord(opts.account, domain, "Deal", r.deal);
    await solver.signDeal({ params: { id: r.id }, body: { signer: me, signature } });
    log.info("deal signed", { deal: r.id, jobCreator: r.deal.jobCreator, price: r.deal.price });
  }

  async function openAndRun(local: LocalDeal, r: DealRecord | undefined): Promise<void> {
    const state = await dealState(chain, { dealId: local.id });
    if (state === "none") {
      if (!r?.jobCreatorSignature || !r.providerSignature) return; // not signed by both yet
      if (Date.now() / 1000 >= Number(local.deal.deadline)) {
        db.put({ ...local, status: "failed", error: "deadline passed before opening" });
        return;
      }
      let txHash: Hex;
      try {
        ({ txHash } = await openDeal(chain, { deal: local.deal, jobCreatorSig: r.jobCreatorSignature, providerSig: r.providerSignature }));
      } catch (e) {
        // A peer that did not answer is retried on the next pass; only a refusal ends the deal.
        if (!(e instanceof LilyError) || e.code === "UNREACHABLE") throw e;
        const reason = e.message;
        log.warn("deal could not be opened", { deal: local.id, reason });
        db.put({ ...local, status: "failed", error: reason });
        await report(local.id, "rejected", { error: reason });
        return;
      }
      log.info("deal opened", { deal: local.id, txHash });
      // Progress for the solver is best effort: the deal is open on chain whatever it hears.
      await report(local.id, "opened", { txHash }).catch((e) => log.warn("status not sent", { err: e }));
    } else if (state !== "open") {
      db.put({ ...local, status: "committed" }); // the next pass follows it to settlement
      return;
    }
    db.put({ ...local, status: "opened" });
    if (opts.behaviour === "lazy") return; // it opened the deal, locking its collateral, and walks away
    await report(local.id, "running").catch((e) => log.warn("status not sent", { err: e }));
    const timeLeftMs = Number(local.deal.deadline) * 1000 - Date.now() - 2000;
    const outcome =
      opts.behaviour === "cheat"
        ? await fabricateResult(store, local)
        : await runJob({ store, executor, logger: log, workDir: opts.workDir }, local, timeLeftMs);
    const { txHash, gasUsed } = await commitResult(chain, { deal: local.deal, resultDigest: cidDigest(outcome.resultCid) });
    db.put({ ...local, status: local.deal.policy === Policy.trust ? "settled" : "committed", resultCid: outcome.resultCid });
    log.info("result committed", { deal: local.id, result: outcome.resultCid, exitCode: outcome.exitCode, txHash, gasUsed });
    const result = { dealId: local.id, provider: me, result: outcome.resultCid, exitCode: outcome.exitCode };
    const signature = await signRecord(opts.account, domain, "Result", result);
    await solver.postResult({ params: { id: local.id }, body: { result, signature } });
  }

  /**
   * Follow a committed deal to settlement. Under optimistic and audit policies the provider is
   * the party that wants the deal closed, so it calls `finalize` once the window has passed or
   * the audit draw is due; a deal under mediation waits for the mediator's ruling.
   */
  async function settle(local: LocalDeal): Promise<void> {
    const state = await dealState(chain, { dealId: local.id });
    const terminal = { settled: "settled", slashed: "slashed", timedOut: "failed" } as const;
    if (state in terminal) {
      db.put({ ...local, status: terminal[state as keyof typeof terminal] });
      log.info("deal closed", { deal: local.id, state });
      return;
    }
    if (state !== "committed" || local.deal.policy === Policy.replicate) return; // challenged: the mediator rules; replicas settle as a group
    try {
      const { txHash } = await finalize(chain, { deal: local.deal });
      log.info("deal finalized", { deal: local.id, txHash });
    } catch (e) {
      // REJECT (by the contract): too early — the challenge window is open or the audit draw is pending
      if (e instanceof LilyError && notYet.has(String(e.details.error))) return;
      throw e;
    }
  }

  /** Handle one deal at most once at a time; errors are logged and retried on the next pass. */
  function handle(id: string, f: () => Promise<void>): void {
    if (busy.has(id) || closed) return;
    busy.add(id);
    f()
      .catch((e) => log.error("deal step failed", { deal: id, err: e }))
      .finally(() => busy.delete(id));
  }

  async function pass(): Promise<void> {
    const { deals } = await solver.listDeals({ query: { provider: me } });
    const byId = new Map(deals.map((d) => [d.id, d]));
    for (const r of deals) {
      const local = db.get(r.id);
      if (!local && r.status === "proposed" && !r.providerSignature) handle(r.id, () => accept(r));
    }
    for (const local of db.unfinished()) {
      handle(local.id, () => (local.status === "committed" ? settle(local) : openAndRun(local, byId.get(local.id))));
    }
  }

  let timer: NodeJS.Timeout | undefined;
  const tick = () => {
    if (closed) return;
    clearTimeout(timer);
    pass()
      .catch((e) => log.warn("solver pass failed", { err: e }))
      .finally(() => {
        if (!closed) timer = setTimeout(tick, opts.pollMs);
      });
  };

  await advertise();
  const refresh = setInterval(() => void advertise().catch((e) => log.warn("offer refresh failed", { err: e })), (opts.offerTtlSeconds * 1000) / 2);
  const sub = subscribe(opts.solverUrl, { provider: me }, () => tick(), { onOpen: () => tick() });
  tick();

  return {
    address: me,
    get offerId() {
      return offerId;
    },
    async close() {
      closed = true;
      clearTimeout(timer);
      clearInterval(refresh);
      sub.close();
      db.close();
    },
  };
}
